package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/inferbench/inferbench/internal/analyze"
	"github.com/inferbench/inferbench/internal/result"
	"github.com/inferbench/inferbench/internal/sanitize"
)

// CompareFormats are the formats of `inferbench compare`.
var CompareFormats = []string{"text", "md", "junit"}

// Comparison is what `inferbench compare` renders.
type Comparison struct {
	BaseName, NewName string
	Result            analyze.FileComparison
	// Tolerance is --fail-on-regression (0.10 for 10%); Gate says it was
	// given. Without a gate every significant regression is reported as
	// such and JUnit marks it failed, but the exit code stays 0.
	Tolerance float64
	Gate      bool
	// New is NEW judged: its thresholds are test cases in JUnit and a
	// section in the others.
	New *result.File
	// WhyNoIntervals says why some changes have no interval (a v1 file),
	// or "".
	WhyNoIntervals string
}

// summary is the comparison's first line.
func (c Comparison) summary() string {
	reg, imp, failing := 0, 0, len(c.Result.Failing(c.Tolerance))
	for _, m := range c.Result.Matched {
		for _, ch := range m.Changes {
			if ch.Regression() {
				reg++
			}
			if ch.Improvement() {
				imp++
			}
		}
	}
	s := fmt.Sprintf("%s vs %s: %d %s in common, %d %s, %d %s", c.NewName, c.BaseName, len(c.Result.Matched), words(len(c.Result.Matched), "step", "steps"),
		reg, words(reg, "regression", "regressions"), imp, words(imp, "improvement", "improvements"))
	if c.Gate {
		if failing > 0 {
			s += fmt.Sprintf("; FAIL: %d worse by more than %g%% (exit code 3)", failing, 100*c.Tolerance)
		} else {
			s += fmt.Sprintf("; pass: none worse by more than %g%%", 100*c.Tolerance)
		}
	}
	return s
}

func words(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// figure is a value with its unit.
func figure(v float64, unit string) string {
	if unit == "ms" {
		return ms(v)
	}
	return fmt.Sprintf("%.1f %s", v, unit)
}

// WriteComparison renders a comparison in a format of CompareFormats.
func WriteComparison(w io.Writer, format string, c Comparison) error {
	switch format {
	case "text", "":
		return compareText(w, c)
	case "md", "markdown":
		return compareMarkdown(w, c)
	case "junit":
		return compareJUnit(w, c)
	}
	return fmt.Errorf("unknown format %q (want one of %s)", format, strings.Join(CompareFormats, ", "))
}

func compareText(w io.Writer, c Comparison) error {
	var b strings.Builder
	fmt.Fprintln(&b, c.summary())
	for _, m := range c.Result.Matched {
		fmt.Fprintf(&b, "\n%s (%s):\n", m.Label(), trialWords(m))
		if m.Why != "" {
			fmt.Fprintf(&b, "  not compared: %s\n", m.Why)
		}
		for _, ch := range m.Changes {
			fmt.Fprintf(&b, "  %-10s %s -> %s: %s\n", ch.Metric, figure(ch.Base, ch.Unit), figure(ch.New, ch.Unit), strings.TrimPrefix(ch.Words(), ch.Metric+" "))
		}
		if c.WhyNoIntervals == "" {
			for _, why := range m.NoInterval {
				fmt.Fprintf(&b, "  no interval: %s\n", why)
			}
		}
	}
	if len(c.Result.OnlyBase) > 0 {
		fmt.Fprintf(&b, "\nonly in %s: %s\n", c.BaseName, strings.Join(c.Result.OnlyBase, ", "))
	}
	if len(c.Result.OnlyNew) > 0 {
		fmt.Fprintf(&b, "\nonly in %s: %s\n", c.NewName, strings.Join(c.Result.OnlyNew, ", "))
	}
	if c.WhyNoIntervals != "" {
		fmt.Fprintf(&b, "\n%s\n", c.WhyNoIntervals)
	}
	if lines := thresholdLines(c.New); len(lines) > 0 {
		fmt.Fprintf(&b, "\nThresholds of %s: %s\n", c.NewName, lines[0])
		for _, l := range lines[1:] {
			fmt.Fprintf(&b, "  %s\n", l)
		}
	}
	_, err := io.WriteString(w, sanitize.Lines(b.String()))
	return err
}

// trialWords says how many runs each side had.
func trialWords(m analyze.Matched) string {
	return fmt.Sprintf("%d vs %d %s", m.BaseTrials, m.NewTrials, words(max(m.BaseTrials, m.NewTrials), "run", "runs"))
}

func compareMarkdown(w io.Writer, c Comparison) error {
	fmt.Fprintf(w, "**%s**\n\n", sanitize.Markdown(c.summary()))
	fmt.Fprintln(w, "| step | metric | base | new | change (95% CI) | verdict |\n|---|---|---:|---:|---|---|")
	for _, m := range c.Result.Matched {
		if m.Why != "" {
			fmt.Fprintf(w, "| %s | | | | | not compared: %s |\n", sanitize.Markdown(m.Label()), sanitize.Markdown(m.Why))
		}
		for _, ch := range m.Changes {
			words := ch.Words()
			change, verdict, _ := strings.Cut(strings.TrimPrefix(words, ch.Metric+" "), ", ")
			if !ch.Ratio.OK {
				change, verdict = strings.TrimSuffix(strings.TrimPrefix(words, ch.Metric+" "), " (no interval)"), "no interval"
			}
			if ch.Fails(c.Tolerance) {
				verdict = "**" + verdict + "**"
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", sanitize.Markdown(m.Label()), ch.Metric, figure(ch.Base, ch.Unit), figure(ch.New, ch.Unit),
				sanitize.Markdown(change), verdict)
		}
	}
	if len(c.Result.OnlyBase) > 0 {
		fmt.Fprintf(w, "\n_Only in %s: %s_\n", sanitize.Markdown(c.BaseName), sanitize.Markdown(strings.Join(c.Result.OnlyBase, ", ")))
	}
	if len(c.Result.OnlyNew) > 0 {
		fmt.Fprintf(w, "\n_Only in %s: %s_\n", sanitize.Markdown(c.NewName), sanitize.Markdown(strings.Join(c.Result.OnlyNew, ", ")))
	}
	if c.WhyNoIntervals != "" {
		fmt.Fprintf(w, "\n_%s_\n", sanitize.Markdown(c.WhyNoIntervals))
	} else {
		var whys []string
		for _, m := range c.Result.Matched {
			for _, why := range m.NoInterval {
				if !slices.Contains(whys, why) {
					whys = append(whys, why)
				}
			}
		}
		for _, why := range whys {
			fmt.Fprintf(w, "\n_No interval: %s_\n", sanitize.Markdown(why))
		}
	}
	if lines := thresholdLines(c.New); len(lines) > 0 {
		fmt.Fprintf(w, "\n**Thresholds of %s: %s**\n\n", sanitize.Markdown(c.NewName), sanitize.Markdown(lines[0]))
		for _, l := range lines[1:] {
			fmt.Fprintf(w, "- %s\n", mdThreshold(l))
		}
	}
	return nil
}

// JUnit XML: one suite, a test case per compared step and per threshold
// result of NEW.
type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Class   string        `xml:"classname,attr"`
	Name    string        `xml:"name,attr"`
	Failure *junitFailure `xml:"failure,omitempty"`
	Out     string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

func compareJUnit(w io.Writer, c Comparison) error {
	cmp := junitSuite{Name: "inferbench compare " + c.BaseName + " " + c.NewName}
	for _, m := range c.Result.Matched {
		tc := junitCase{Class: "inferbench.compare", Name: m.Label()}
		var lines, failing []string
		if m.Why != "" {
			lines = append(lines, "not compared: "+m.Why)
		}
		for _, ch := range m.Changes {
			lines = append(lines, ch.Words())
			if ch.Fails(c.Tolerance) {
				failing = append(failing, ch.Words())
			}
		}
		tc.Out = strings.Join(lines, "\n")
		if len(failing) > 0 {
			tc.Failure = &junitFailure{Message: strings.Join(failing, "; "), Text: tc.Out}
			cmp.Failures++
		}
		cmp.Cases = append(cmp.Cases, tc)
	}
	suites := junitSuites{Suites: []junitSuite{cmp}}
	if c.New != nil && len(c.New.Thresholds) > 0 {
		th := junitSuite{Name: "inferbench thresholds " + c.NewName}
		for _, spec := range c.New.Thresholds {
			results := spec.Results
			if len(results) == 0 {
				results = []result.ThresholdResult{{Detail: "applies to no run"}}
			}
			for _, r := range results {
				tc := junitCase{Class: "inferbench.threshold", Name: strings.TrimSpace(spec.Expr + " " + r.Deployment + " " + r.Load), Out: r.Detail}
				if !r.Pass {
					tc.Failure = &junitFailure{Message: analyze.ThresholdLine(spec, r), Text: r.Detail}
					th.Failures++
				}
				th.Cases = append(th.Cases, tc)
			}
		}
		th.Tests = len(th.Cases)
		suites.Suites = append(suites.Suites, th)
	}
	suites.Suites[0].Tests = len(cmp.Cases)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(suites); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
