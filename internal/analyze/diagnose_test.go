package analyze

import (
	"strings"
	"testing"
)

func TestDiagnose(t *testing.T) {
	tests := []struct {
		name string
		v    ServerView
		want []string
	}{
		{"healthy", ServerView{Concurrency: 8, ClientP50Ms: 10, QueueMs: 2, ComputeMs: 7, AvgBatchSize: 1, CPUUtil: 0.3, GPUUtil: 0.6}, nil},
		{"queueing", ServerView{Concurrency: 16, ClientP50Ms: 40, QueueMs: 30, ComputeMs: 8, AvgBatchSize: 1, CPUUtil: -1, GPUUtil: -1}, []string{"queueing dominates: 30.00 ms of the 40.00 ms p50"}},
		{"batching", ServerView{Concurrency: 16, ClientP50Ms: 15, QueueMs: 3, ComputeMs: 10, AvgBatchSize: 8, CPUUtil: -1, GPUUtil: -1}, []string{"batching works: executions hold 8.0 requests on average at concurrency 16 (50%"}},
		{"cpu bound", ServerView{Concurrency: 8, ClientP50Ms: 30, QueueMs: 5, AvgBatchSize: 1, CPUUtil: 0.97, GPUUtil: 0.2}, []string{"CPU bottleneck: the server's CPU is at 97% (GPU busy 20%)"}},
		{"cpu busy, gpu busy too", ServerView{Concurrency: 8, ClientP50Ms: 30, CPUUtil: 0.95, GPUUtil: 0.9}, nil},
	}
	for _, tt := range tests {
		got := Diagnose(tt.v)
		if len(got) != len(tt.want) {
			t.Errorf("%s: %q", tt.name, got)
			continue
		}
		for i := range got {
			if !strings.HasPrefix(got[i], tt.want[i]) {
				t.Errorf("%s: %q, want it to start with %q", tt.name, got[i], tt.want[i])
			}
		}
	}
}
