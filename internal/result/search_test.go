package result

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSearchRoundTrip: a sweep's search and a level's stability survive a
// write and a read, under the names the issue and DESIGN.md promise.
func TestSearchRoundTrip(t *testing.T) {
	f := New("test", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	spot := &OperatingPoint{Concurrency: 4, ThroughputRPS: 398.5, P50Ms: 10.2, P99Ms: 11.9, Stable: true}
	f.Runs = append(f.Runs, Run{Status: StatusOK, Stability: &Stability{Stable: true, Windows: 3, WindowRequests: 50, ThroughputSpread: 0.04, P50Spread: 0.02}})
	f.Searches = []Search{{Mode: ModeConcurrency, Status: SearchComplete, End: "plateau", SweetSpot: spot, MaxUsefulConcurrency: 4,
		RecommendedRange: []float64{4, 8}, Path: []SearchStep{{OperatingPoint: *spot, Phase: "rise", Passed: true}}}}
	path := filepath.Join(t.TempDir(), "r.json")
	if err := Write(path, f); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	for _, key := range []string{`"searches"`, `"sweet_spot"`, `"concurrency": 4`, `"rate": 0`, `"throughput_rps": 398.5`, `"p50_ms"`, `"p99_ms"`, `"error_rate"`,
		`"max_useful_concurrency": 4`, `"breaking_point": null`, `"recommended_range": [`, `"stability"`, `"stable": true`, `"windows": 3`, `"throughput_spread": 0.04`, `"p50_spread": 0.02`, `"phase": "rise"`} {
		if !strings.Contains(string(raw), key) {
			t.Errorf("the file lacks %s:\n%s", key, raw)
		}
	}
	back, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if s := back.Searches[0]; s.SweetSpot.ThroughputRPS != 398.5 || s.Path[0].Concurrency != 4 || back.Runs[0].Stability.Windows != 3 {
		t.Errorf("read back %+v", back.Searches[0])
	}
}
