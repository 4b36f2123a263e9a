package refserver_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/refserver"
)

// TestShutdownClosesConnectionsThatNeverSentARequest: a client that
// dialled a spare connection and never used it must not hold a shutdown
// for the 5 s net/http waits for a first request.
func TestShutdownClosesConnectionsThatNeverSentARequest(t *testing.T) {
	srv, err := refserver.New(refserver.Options{Models: []refserver.ModelSpec{tinyModel("tiny", refserver.NewFIFO(0))}})
	if err != nil {
		t.Fatal(err)
	}
	r, err := srv.Listen(refserver.Addrs{HTTP: "127.0.0.1:0", Metrics: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	for _, addr := range []string{r.HTTPAddr, r.MetricsAddr} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	time.Sleep(50 * time.Millisecond) // let the server accept them
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := r.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown with idle fresh connections: %v", err)
	}
}
