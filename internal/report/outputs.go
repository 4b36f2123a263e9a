package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/inferbench/inferbench/internal/result"
	"github.com/inferbench/inferbench/internal/sanitize"
)

// outputLines describe the output check: the verdict, then one line per
// deployment with its boxes per image and its status.
func outputLines(c *result.OutputCheck) []string {
	if c == nil {
		return nil
	}
	lines := []string{fmt.Sprintf("Output check (the same %s, answered once before the load): %s",
		plural(len(c.Images), "image"), c.Verdict)}
	for _, d := range c.Deployments {
		boxes := make([]string, len(d.Boxes))
		for i, n := range d.Boxes {
			boxes[i] = "?"
			if n >= 0 {
				boxes[i] = strconv.Itoa(n)
			}
		}
		line := fmt.Sprintf("%s: %s, boxes per image [%s]", d.Name, d.Status, strings.Join(boxes, " "))
		if d.Detail != "" {
			line += ": " + d.Detail
		}
		lines = append(lines, line)
	}
	return lines
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// outputsText writes the output check in the text report.
func outputsText(w io.Writer, f *result.File) {
	lines := outputLines(f.OutputCheck)
	if len(lines) == 0 {
		return
	}
	fmt.Fprintf(w, "\n%s\n", lines[0])
	for _, l := range lines[1:] {
		fmt.Fprintf(w, "  %s\n", l)
	}
}

// outputsMarkdown writes the output check in Markdown.
func outputsMarkdown(w io.Writer, f *result.File) {
	lines := outputLines(f.OutputCheck)
	if len(lines) == 0 {
		return
	}
	fmt.Fprintf(w, "\n### %s\n\n", sanitize.Markdown(lines[0]))
	for _, l := range lines[1:] {
		fmt.Fprintf(w, "- %s\n", sanitize.Markdown(l))
	}
}

// payloadCSV is a run's client-side cells: the bytes of a request and
// its answer on average, and the preprocessing per request.
func payloadCSV(r *result.Run) []string {
	fl := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	cells := []string{"", "", ""}
	if p := r.Payload; p != nil {
		cells[0], cells[1] = fl(p.RequestBytes), fl(p.ResponseBytes)
	}
	if p := r.Client.PreprocessMs; p != nil {
		cells[2] = fl(p.Mean)
	}
	return cells
}
