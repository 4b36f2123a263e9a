package protocol

import (
	"context"
	"net/http"
)

// httpCaller is one worker's hot path over HTTP: its response buffer and
// parsed response are reused from call to call.
type httpCaller struct {
	c     *httpClient
	check *Checker
	watch abortWatch
	res   httpResponse
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
	hc.watch.follow(ctx)
	err = hc.c.t.exchange(ctx, &hc.watch, hp.op, hp.wire, http.MethodPost, &hc.res, &hc.body)
	out := Outcome{RequestBytes: hp.body, ResponseBytes: len(hc.res.body)}
	switch {
	case err != nil:
		out.Err = err
	case hc.res.status != http.StatusOK:
		out.Err = statusError(hc.res.status, hc.res.body)
	default:
		var headerLen int
		if headerLen, out.Err = hc.res.jsonLen(); out.Err == nil {
			out.Err = hc.check.httpBody(hc.res.body, headerLen)
		}
	}
	return out
}

func (hc *httpCaller) Close() error {
	hc.watch.release()
	return nil
}
