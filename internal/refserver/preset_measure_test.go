//go:build measure

// A measurement, not a check: it prints the preset's curves (about a
// minute) and is built only with -tags measure.

package refserver_test

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestMeasureFieldGuide prints the preset's throughput curves, for the
// README: go test -tags measure -run TestMeasureFieldGuide -v ./internal/refserver/
func TestMeasureFieldGuide(t *testing.T) {
	pods := startPreset(t, 1)
	calls := presetCallers(t, pods)
	levels := []int{1, 4, 8, 16, 24, 32}
	var out strings.Builder
	fmt.Fprintf(&out, "\n%-13s", "deployment")
	for _, c := range levels {
		fmt.Fprintf(&out, " %18s", fmt.Sprintf("c=%d", c))
	}
	out.WriteString("\n")
	for _, name := range presetOrder {
		fmt.Fprintf(&out, "%-13s", name)
		for _, c := range levels {
			closedLoop(c, 200*time.Millisecond, 0, calls[name])
			res := closedLoop(c, 2*time.Second, 0, calls[name])
			cell := fmt.Sprintf("%.0f/s %.1fms", res.throughput(), float64(res.percentile(.5))/1e6)
			if res.failed > 0 {
				cell += fmt.Sprintf(" %d err", res.failed)
			}
			fmt.Fprintf(&out, " %18s", cell)
		}
		out.WriteString("\n")
	}
	t.Log(out.String())
}
