package protocol

import (
	"context"
	"net/http"

	"github.com/inferbench/inferbench/internal/transport"
	"github.com/inferbench/inferbench/internal/transport/http1"
)

// httpCaller is one worker's hot path over HTTP: its response buffer and
// parsed response are reused from call to call.
type httpCaller struct {
	c     *httpClient
	check *Checker
	watch transport.AbortWatch
	res   http1.Response
	body  []byte
}

func (c *httpClient) NewCaller(check *Checker) Caller {
	return &httpCaller{c: c, check: check}
}

func (hc *httpCaller) Call(ctx context.Context, p Payload) Outcome {
	hp, err := httpPayloadOf(p)
	if err != nil {
		return Outcome{Err: err}
	}
	hc.watch.Follow(ctx)
	err = hc.c.t.Exchange(ctx, &hc.watch, hp.op, hp.wire, http.MethodPost, &hc.res, &hc.body)
	overLimit(err) // the buffer stays: letting it go costs more (garbage) under a flood than it saves
	out := Outcome{RequestBytes: hp.body, ResponseBytes: hc.res.Wire}
	switch {
	case err != nil:
		out.Err = err
	case hc.res.Status != http.StatusOK:
		out.Err = statusError(hc.res.Status, hc.res.Body)
	default:
		var headerLen int
		if headerLen, out.Err = jsonLen(&hc.res); out.Err == nil {
			out.Err = hc.check.httpBody(hc.res.Body, headerLen)
		}
	}
	return out
}

func (hc *httpCaller) Close() error {
	hc.watch.Release()
	return nil
}
