package analyze

import (
	"strings"
	"testing"
)

func TestWarmupRequests(t *testing.T) {
	tests := []struct{ n, want int }{
		{0, 10}, // a duration run
		{1, 5}, {50, 5}, {100, 5}, {119, 5}, {120, 6}, {199, 9}, {200, 10}, {800, 10}, {1000, 10}, {1 << 30, 10},
	}
	for _, tt := range tests {
		if got := WarmupRequests(tt.n); got != tt.want {
			t.Errorf("WarmupRequests(%d) = %d, want %d", tt.n, got, tt.want)
		}
	}
}

func TestErrorBand(t *testing.T) {
	tests := []struct {
		rate float64
		want Band
	}{
		{0, BandExcellent}, {0.05, BandExcellent}, {0.0501, BandGood}, {0.10, BandGood},
		{0.15, BandMarginal}, {0.20, BandMarginal}, {0.35, BandPoor}, {0.50, BandPoor},
		{0.51, BandOverloaded}, {1, BandOverloaded},
	}
	for _, tt := range tests {
		if got := ErrorBand(tt.rate); got != tt.want {
			t.Errorf("ErrorBand(%v) = %v, want %v", tt.rate, got.Name, tt.want.Name)
		}
	}
}

func TestConcurrencyWarning(t *testing.T) {
	tests := []struct {
		c    int
		want string
	}{{1, ""}, {16, ""}, {50, ""}, {51, "above 50"}, {64, "above 50"}, {65, "breaking-point"}, {200, "breaking-point"}}
	for _, tt := range tests {
		got := ConcurrencyWarning(tt.c)
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("ConcurrencyWarning(%d) = %q, want it to contain %q", tt.c, got, tt.want)
		}
		if got != "" && !strings.Contains(got, "8-16") {
			t.Errorf("warning %q does not suggest 8-16", got)
		}
	}
}

func TestRatio(t *testing.T) {
	tests := []struct{ v, b, want float64 }{{10, 5, 2}, {5, 5, 1}, {7.5, 5, 1.5}, {1, 3, 0.33}, {0, 5, 0}, {5, 0, 0}}
	for _, tt := range tests {
		if got := Ratio(tt.v, tt.b); got != tt.want {
			t.Errorf("Ratio(%v, %v) = %v, want %v", tt.v, tt.b, got, tt.want)
		}
	}
}

func TestClientLimit(t *testing.T) {
	tests := []struct {
		cpu        float64
		cores      int
		late, sent int64
		want       string
	}{
		{50, 2, 0, 1000, ""},
		{159, 2, 0, 1000, ""},
		{160, 2, 0, 1000, "160% CPU of the machine's 2 cores"},
		{30, 2, 10, 1000, ""},
		{30, 2, 11, 1000, "11 of 1000 sends (1.1%)"},
		{30, 2, 0, 0, ""},
	}
	for _, tt := range tests {
		got := ClientLimit(tt.cpu, tt.cores, tt.late, tt.sent)
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("ClientLimit(%v, %d, %d, %d) = %q, want %q", tt.cpu, tt.cores, tt.late, tt.sent, got, tt.want)
		}
	}
}
