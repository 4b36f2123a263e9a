package report

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/measure"
	"github.com/inferbench/inferbench/internal/result"
)

func TestOutputCheckAndPayloadInReports(t *testing.T) {
	f := result.New("test", time.Now())
	f.Runs = []result.Run{{Deployment: result.Deployment{Name: "nim"}, Status: result.StatusOK, Load: result.Load{Mode: result.ModeConcurrency, Concurrency: 1},
		Counts: result.Counts{Sent: 10, OK: 10}, Payload: &result.Payload{RequestBytes: 23456, ResponseBytes: 239},
		Client: result.Client{PreprocessMs: &measure.Latency{Mean: 0.25}}}}
	f.OutputCheck = &result.OutputCheck{Images: []string{"a.jpg"}, Verdict: result.OutputsDiffer, Deployments: []result.DeploymentOutputs{
		{Name: "nim", Boxes: []int{2}, Status: result.OutputReference},
		{Name: "fake", Boxes: []int{-1}, Status: result.OutputDiffers, Detail: "a.jpg: 1 boxes against 2"},
	}}
	var text, md, c bytes.Buffer
	if err := Text(&text, f, Options{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Output check (the same 1 image, answered once before the load): differ", "nim: reference, boxes per image [2]", "fake: differs, boxes per image [?]: a.jpg: 1 boxes against 2"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, &text)
		}
	}
	if err := Markdown(&md, f); err != nil || !strings.Contains(md.String(), "### Output check") {
		t.Errorf("markdown: %v\n%s", err, &md)
	}
	if err := CSV(&c, f); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(c.String())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	n := len(rows[0])
	if rows[0][n-3] != "request_bytes" || rows[1][n-3] != "23456" || rows[1][n-2] != "239" || rows[1][n-1] != "0.25" {
		t.Errorf("CSV columns %v, row %v", rows[0][n-3:], rows[1][n-3:])
	}
}
