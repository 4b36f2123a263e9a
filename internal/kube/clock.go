package kube

import (
	"context"
	"fmt"
	"path"

	"k8s.io/client-go/rest"

	"github.com/inferbench/inferbench/internal/clock"
	"github.com/inferbench/inferbench/internal/loaders"
	"github.com/inferbench/inferbench/internal/result"
)

// APIServerProbe reads the API server's clock: it GETs /version, which
// every authenticated client may read (and anonymous ones through
// system:public-info-viewer), with cfg's credentials and TLS, and returns
// its Date header. The coordinator and each loader measure their offset
// from it with clock.Offset, the API server being the one clock they
// share.
func APIServerProbe(cfg *rest.Config) (clock.Probe, error) {
	client, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("API server client for %s: %w", cfg.Host, err)
	}
	u, _, err := rest.DefaultServerUrlFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("API server address %q: %w", cfg.Host, err)
	}
	u.Path = path.Join("/", u.Path, "version")
	return clock.HTTPProbe(client, u.String()), nil
}

// APIServerClock measures this machine's clock against the API server's
// (clock.Offset through APIServerProbe), as a result file keeps it.
func APIServerClock(ctx context.Context, cfg *rest.Config) (*result.Clock, error) {
	probe, err := APIServerProbe(cfg)
	if err != nil {
		return nil, err
	}
	est, err := clock.Offset(ctx, probe, clock.Options{})
	if err != nil {
		return nil, fmt.Errorf("clock against the API server %s: %w", cfg.Host, err)
	}
	return loaders.ResultClock(ClockReference, est), nil
}

// ClockReference names what the loaders' clocks are measured against.
const ClockReference = "the Kubernetes API server's Date header"
