package cli

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/inferbench/inferbench/internal/kserve"
	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/refserver"
	"github.com/inferbench/inferbench/internal/reftest"
	"github.com/inferbench/inferbench/internal/session"
)

// TestMaxResponseSizeReachesTheClient: --max-response-size is the limit the
// client applies. A model whose answer is 16 KiB of FP32 opens with the
// default limit and is refused, naming the limit, below it.
func TestMaxResponseSizeReachesTheClient(t *testing.T) {
	spec := reftest.Small("big", refserver.NewInstances(4, 0))
	spec.Outputs = []kserve.TensorMetadata{{Name: "y", Datatype: kserve.FP32, Shape: []int64{4096}}}
	r := reftest.Serve(t, refserver.Options{Models: []refserver.ModelSpec{spec}})
	for _, kind := range []protocol.Kind{protocol.KServeHTTP, protocol.KServeGRPC} {
		base := []string{"--url", urlFor(r, kind), "--protocol", string(kind), "--model", "big", "-n", "20", "-q"}
		if f, _, err := benchJSON(t, context.Background(), base...); err != nil || f.Runs[0].Counts.OK != 20 {
			t.Fatalf("%s, default limit: err %v, runs %+v", kind, err, f.Runs)
		}
		_, _, err := runCLI(context.Background(), append([]string{"bench", "--max-response-size", "4KiB"}, base...)...)
		var ee *session.ExitError
		t.Logf("%s: %v", kind, err)
		if !errors.As(err, &ee) || ee.Code != 1 || !strings.Contains(err.Error(), "4 KiB") {
			t.Errorf("%s, 4 KiB limit: err = %v, want exit 1 naming the 4 KiB limit", kind, err)
		}
	}
}
