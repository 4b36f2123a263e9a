//go:build !race

package compress_test

import (
	"strings"
	"testing"

	"github.com/inferbench/inferbench/internal/transport/compress"
)

// Decoding reuses its buffer and readers: nothing is allocated per body in
// steady state.
func TestDecodeAllocatesNothing(t *testing.T) {
	body := []byte(strings.Repeat(`{"name":"output0","datatype":"FP32","shape":[1,84,8400]}`, 200))
	var d compress.Decoder
	for _, e := range []compress.Encoding{compress.Gzip, compress.Deflate} {
		enc, _ := compress.Compress(e, body)
		if _, err := d.Decode(e, enc, 1<<20, "response body"); err != nil {
			t.Fatal(err)
		}
		if n := testing.AllocsPerRun(100, func() { d.Decode(e, enc, 1<<20, "response body") }); n != 0 {
			t.Errorf("%s: %.1f allocations per body", e, n)
		}
	}
}
