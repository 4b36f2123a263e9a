package clock

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// HTTPProbe GETs url with client and reads the response's Date header.
// The status does not matter: a 401 or 403 carries the server's clock as
// well as a 200. The body is drained (up to 64 KiB) so that the connection
// is reused and later probes cost one round trip.
func HTTPProbe(client *http.Client, url string) Probe {
	return func(ctx context.Context) (time.Time, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return time.Time{}, fmt.Errorf("clock probe request %s: %w", url, err)
		}
		resp, err := client.Do(req)
		if err != nil {
			return time.Time{}, err // *url.Error names the method and URL
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		_ = resp.Body.Close()
		date := resp.Header.Get("Date")
		if date == "" {
			return time.Time{}, fmt.Errorf("GET %s: the response (%s) has no Date header", url, resp.Status)
		}
		t, err := http.ParseTime(date)
		if err != nil {
			return time.Time{}, fmt.Errorf("GET %s: Date header %q: %w", url, date, err)
		}
		return t, nil
	}
}
