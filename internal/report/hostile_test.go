package report

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"html"
	"strings"
	"testing"

	"github.com/inferbench/inferbench/internal/measure"
	"github.com/inferbench/inferbench/internal/sanitize"
)

// hostile is text a server (or a crafted result file) might carry: a
// terminal title change, colours, a clear screen, a C1 CSI, a line forged
// after a newline, and HTML that a Markdown renderer would run.
const hostile = "boom\x1b]0;pwned\x07\x1b[31mred\x1b[2J\u009b1m\nPASS: forged line <script>alert(1)</script><img src=x onerror=alert(2)>|x"

// TestReportsQuoteHostileText: no format lets a server's text reach the
// terminal's escape sequences, forge a line, or become HTML in Markdown.
func TestReportsQuoteHostileText(t *testing.T) {
	f := sample()
	f.Runs[0].Deployment.Name = "nim\x1b[1m"
	f.Runs[1].Errors = []measure.ErrorGroup{{Class: measure.ClassHTTPStatus, Count: 200, Example: hostile}}
	f.Runs[1].Warmup.Errors = []measure.ErrorGroup{{Class: "time\x1bout", Count: 3, Example: hostile}}
	f.Runs[2].Failure = hostile
	for _, format := range []string{"text", "md", "csv"} {
		t.Run(format, func(t *testing.T) {
			var b bytes.Buffer
			if err := Write(&b, format, f, Options{}); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			if i := strings.IndexFunc(out, func(r rune) bool { return r < 0x20 && r != '\n' || r >= 0x7f && r <= 0x9f }); i >= 0 {
				t.Errorf("control character %q at byte %d:\n%s", out[i], i, out)
			}
			if strings.Contains(out, "\nPASS: forged") {
				t.Errorf("a newline in a message forged a line:\n%s", out)
			}
			quoted := `\x1b]0;pwned\a\x1b[31mred`
			if format == "md" {
				quoted = `\\x1b]0;pwned\\a\\x1b[31mred` // and the backslashes escaped
			}
			if !strings.Contains(out, quoted) {
				t.Errorf("the message is not shown quoted:\n%s", out)
			}
			if format == "md" {
				for _, raw := range []string{"<script", "<img", "</script", "x|x"} {
					if strings.Contains(out, raw) {
						t.Errorf("markdown carries %q raw:\n%s", raw, out)
					}
				}
				if !strings.Contains(out, "&lt;script>") {
					t.Errorf("markdown lacks the escaped tag:\n%s", out)
				}
			}
			if format == "csv" {
				if _, err := csv.NewReader(strings.NewReader(out)).ReadAll(); err != nil {
					t.Errorf("csv does not parse: %v", err)
				}
			}
		})
	}
}

// TestTextKeepsItsOwnColour: the verdict's colour, added by the report
// itself, survives the quoting.
func TestTextKeepsItsOwnColour(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, "text", sample(), Options{Color: true}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.String(), "\x1b[32m\x1b[1mOK") {
		t.Errorf("verdict not coloured: %q", b.String()[:40])
	}
}

// TestReportsAreBounded: a result file with 20,000 error groups (an older
// file, or one written by hand) gives reports of bounded length whose
// counts still add up.
func TestReportsAreBounded(t *testing.T) {
	f := sample()
	groups := make([]measure.ErrorGroup, 20000)
	for i := range groups {
		groups[i] = measure.ErrorGroup{Class: measure.ClassHTTPStatus, Count: 1, Example: fmt.Sprintf("message %d", i)}
	}
	groups[0].Count = 200
	f.Runs[1].Errors = groups
	for _, format := range []string{"text", "md", "html"} {
		var b bytes.Buffer
		if err := Write(&b, format, f, Options{}); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		if n := strings.Count(out, "message "); n != measure.GroupsPerClass {
			t.Errorf("%s: %d messages listed, want %d", format, n, measure.GroupsPerClass)
		}
		if !strings.Contains(out, "19980 x http_status: "+measure.OtherMessages) && !strings.Contains(out, "19980 x `http_status`: "+sanitize.Markdown(measure.OtherMessages)) &&
			!strings.Contains(out, "19980 x http_status: "+html.EscapeString(measure.OtherMessages)) {
			t.Errorf("%s: no group of the other 19980 messages:\n%s", format, out)
		}
		if format == "text" && strings.Count(out, "\n") > 60 {
			t.Errorf("text report of %d lines:\n%s", strings.Count(out, "\n"), out)
		}
	}
}
