package kube

import (
	"math"
	"strings"
	"testing"

	"github.com/inferbench/inferbench/internal/result"
)

func TestPerRequest(t *testing.T) {
	tests := []struct {
		name         string
		points       []MemoryPoint
		perReq, base float64
		ok           bool
	}{
		{"none", nil, 0, 0, false},
		{"one", []MemoryPoint{{4, 1e9}}, 0, 0, false},
		{"same concurrency", []MemoryPoint{{4, 1e9}, {4, 2e9}}, 0, 0, false},
		{"flat", []MemoryPoint{{1, 1e9}, {8, 1e9}}, 0, 0, false},
		{"shrinking", []MemoryPoint{{1, 2e9}, {8, 1e9}}, 0, 0, false},
		{"line", []MemoryPoint{{1, 1.05e9}, {2, 1.1e9}, {8, 1.4e9}}, 50e6, 1e9, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			perReq, base, ok := PerRequest(tt.points)
			if ok != tt.ok || math.Abs(perReq-tt.perReq) > 1 || math.Abs(base-tt.base) > 1 {
				t.Errorf("got %v %v %v, want %v %v %v", perReq, base, ok, tt.perReq, tt.base, tt.ok)
			}
		})
	}
}

func TestOOMRisk(t *testing.T) {
	pod := func(limit int64) result.Pod { return result.Pod{Name: "p", MemoryLimitBytes: limit} }
	measured := []MemoryPoint{{1, 1.05e9}, {2, 1.1e9}, {8, 1.4e9}} // 50 MB per request over 1 GB
	tests := []struct {
		name   string
		points []MemoryPoint
		c      int
		pods   []result.Pod
		want   string
	}{
		{"no limit", nil, 32, []result.Pod{pod(0)}, ""},
		{"rate step", nil, 0, []result.Pod{pod(1e9)}, ""},
		{"guide, fits", nil, 16, []result.Pod{pod(2e9)}, ""},
		{"guide, the guide's example", nil, 32, []result.Pod{pod(2e9)},
			"OOM risk: 100 MB per in-flight request x 32 in flight per pod (+ 0 B base) = 3.2 GB against a 2.0 GB memory limit (per-request memory the field guide's typical ~100 MB): keep concurrency at or below about 18"},
		{"guide, spread over two pods", nil, 32, []result.Pod{pod(2e9), pod(4e9)}, ""},
		{"guide, the smallest limit counts", nil, 48, []result.Pod{pod(2e9), pod(4e9)}, "x 24 in flight per pod"},
		{"gone pods do not share the load", nil, 32, []result.Pod{pod(2e9), {Name: "q", MemoryLimitBytes: 2e9, Gone: true}}, "x 32 in flight per pod"},
		{"measured, fits", measured, 32, []result.Pod{pod(4e9)}, ""},
		{"measured, too much", measured, 64, []result.Pod{pod(4e9)},
			"OOM risk: 50 MB per in-flight request x 64 in flight per pod (+ 1.0 GB base) = 4.2 GB against a 4.0 GB memory limit (per-request memory measured from memory growth across 3 steps): keep concurrency at or below about 52"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := OOMRisk(tt.points, tt.c, tt.pods)
			if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
