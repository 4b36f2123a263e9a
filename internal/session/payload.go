package session

import (
	"github.com/inferbench/inferbench/internal/load"
	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/result"
)

// produceFor is the engine's per-request producer of a step: the
// target's, when preprocessing is per request and the target has one.
func produceFor(t *Target, opts levelHooks) func(int) (protocol.Payload, error) {
	if !opts.PreprocessPerRequest {
		return nil
	}
	return t.Produce
}

// clientSide records what the engine measured of the client's side of
// each request: the bytes it put on the wire and got back, on average,
// and the time its preprocessing took.
func clientSide(run *result.Run, res *load.Result) {
	if res.Sent > 0 {
		n := float64(res.Sent)
		run.Payload = &result.Payload{
			RequestBytes:  round(float64(res.RequestBytes)/n, 1),
			ResponseBytes: round(float64(res.ResponseBytes)/n, 1),
		}
	}
	if res.Preprocess != nil && res.Preprocess.Count() > 0 {
		s := res.Preprocess.Summary()
		run.Client.PreprocessMs = &s
	}
}
