package analyze

import (
	"strings"
	"testing"

	"github.com/inferbench/inferbench/internal/result"
)

func TestPodsInvalid(t *testing.T) {
	tests := []struct {
		name string
		pods []result.Pod
		want []string
	}{
		{"quiet", []result.Pod{{Name: "a", RestartsBefore: 3, RestartsAfter: 3, LastTermination: "OOMKilled"}}, nil},
		{"oom", []result.Pod{{Name: "a", RestartsBefore: 1, RestartsAfter: 2, LastTermination: "OOMKilled"}},
			[]string{"pod a was OOM-killed during the step (restarts 1 -> 2): its memory limit is too small for this load"}},
		{"error", []result.Pod{{Name: "a", RestartsAfter: 1, LastTermination: "Error"}},
			[]string{"pod a restarted during the step (restarts 0 -> 1, last termination: Error)"}},
		{"no reason", []result.Pod{{Name: "a", RestartsAfter: 1}}, []string{"pod a restarted during the step (restarts 0 -> 1)"}},
		{"gone", []result.Pod{{Name: "a"}, {Name: "b", Gone: true}}, []string{"pod b went away during the step (deleted, evicted or replaced)"}},
		{"new pod", []result.Pod{{Name: "c", New: true}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := PodsInvalid(tt.pods)
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPodsNotes(t *testing.T) {
	ready := func(p result.Pod) result.Pod { p.Ready = true; p.Name = "a"; p.Phase = "Running"; return p }
	tests := []struct {
		name string
		pod  result.Pod
		want []string // substrings, one per note
	}{
		{"no limits", ready(result.Pod{CPUMilliMax: 4000, MemoryBytesMax: 9e9}), nil},
		{"cpu under", ready(result.Pod{CPULimitMilli: 1000, CPUMilliMax: 899}), nil},
		{"cpu at 90%", ready(result.Pod{CPULimitMilli: 1000, CPUMilliMax: 900}), []string{"CPU at limit: pod a used 900m of its 1000m CPU limit (90%)"}},
		{"memory under", ready(result.Pod{MemoryLimitBytes: 1e9, MemoryBytesMax: 8.9e8}), nil},
		{"memory near", ready(result.Pod{MemoryLimitBytes: 1e9, MemoryBytesMax: 9.5e8}), []string{"memory near limit: pod a used 950 MB of its 1.0 GB memory limit (95%)"}},
		{"not ready", result.Pod{Name: "a", Phase: "Running"}, []string{"pod a was not ready at the end of the step (phase Running)"}},
		{"gone", result.Pod{Name: "a", Gone: true, CPULimitMilli: 1, CPUMilliMax: 5}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := PodsNotes([]result.Pod{tt.pod})
			if len(got) != len(tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
			for i := range got {
				if !strings.Contains(got[i], tt.want[i]) {
					t.Errorf("note %q lacks %q", got[i], tt.want[i])
				}
			}
		})
	}
}

func TestBytes(t *testing.T) {
	for in, want := range map[float64]string{12: "12 B", 2048: "2 kB", 100e6: "100 MB", 3.2e9: "3.2 GB"} {
		if got := Bytes(in); got != want {
			t.Errorf("Bytes(%v) = %q, want %q", in, got, want)
		}
	}
}
