// Package threshold parses pass/fail criteria in a small expression form
// close to k6's: "p99 < 50ms", "p50 < 2x baseline", "errors < 1%",
// "throughput > 500/s", "valid". Errors give the column at fault. The
// criteria are judged on the runs by internal/analyze.
package threshold

import (
	"fmt"
	"strconv"
	"strings"
)

// Metrics a threshold may name, beside any percentile pNN(.N).
const (
	Percentile = "percentile"
	Throughput = "throughput"
	Errors     = "errors"
	Valid      = "valid"
)

// Threshold is one parsed criterion.
type Threshold struct {
	Expr   string  // as written
	Metric string  // Percentile, Throughput, Errors or Valid
	P      float64 // the percentile, for Percentile
	Op     string  // <, <=, > or >= ("" for Valid)
	// Limit is in milliseconds (a percentile), requests per second
	// (throughput), a fraction 0..1 (errors), or times the baseline's
	// value when Baseline is set.
	Limit    float64
	Baseline bool
}

// Name is the metric as written in reports: p99, throughput, errors, valid.
func (t Threshold) Name() string {
	if t.Metric == Percentile {
		return "p" + strconv.FormatFloat(t.P, 'f', -1, 64)
	}
	return t.Metric
}

// Less reports whether the threshold bounds its metric from above (<, <=).
func (t Threshold) Less() bool { return strings.HasPrefix(t.Op, "<") }

// Passes reports whether a measured value meets the threshold.
func (t Threshold) Passes(v float64) bool {
	switch t.Op {
	case "<":
		return v < t.Limit
	case "<=":
		return v <= t.Limit
	case ">":
		return v > t.Limit
	case ">=":
		return v >= t.Limit
	}
	return false
}

// Error is a threshold that cannot be parsed, with the column (from 1)
// of the problem in the expression.
type Error struct {
	Expr   string
	Column int
	Msg    string
}

func (e *Error) Error() string {
	return fmt.Sprintf("threshold '%s': %s at column %d", e.Expr, e.Msg, e.Column)
}

// token is a piece of the expression and the column it starts at.
type token struct {
	text string
	col  int
}

// tokens cuts an expression into words, numbers with their units, and
// comparison operators.
func tokens(s string) []token {
	var out []token
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case c == '<' || c == '>' || c == '=' || c == '!':
			j := i + 1
			if j < len(s) && s[j] == '=' {
				j++
			}
			out = append(out, token{s[i:j], i + 1})
			i = j
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t<>=!", rune(s[j])) {
				j++
			}
			out = append(out, token{s[i:j], i + 1})
			i = j
		}
	}
	return out
}

// Parse reads one threshold expression.
func Parse(expr string) (Threshold, error) {
	t := Threshold{Expr: expr}
	fail := func(col int, format string, args ...any) (Threshold, error) {
		return Threshold{}, &Error{Expr: expr, Column: col, Msg: fmt.Sprintf(format, args...)}
	}
	toks := tokens(expr)
	end := len(expr) + 1
	if len(toks) == 0 {
		return fail(1, "want a metric (pNN, throughput, errors) or valid")
	}
	m := toks[0]
	name := strings.ToLower(m.text)
	switch {
	case name == Valid:
		if len(toks) > 1 {
			return fail(toks[1].col, "valid stands alone: want nothing after it")
		}
		t.Metric = Valid
		return t, nil
	case name == Throughput || name == "rps":
		t.Metric = Throughput
	case name == Errors || name == "error_rate":
		t.Metric = Errors
	case len(name) > 1 && name[0] == 'p':
		p, err := strconv.ParseFloat(name[1:], 64)
		if err != nil || strings.ContainsAny(name[1:], "eE+-") {
			return fail(m.col, "unknown metric %q: want pNN (a percentile such as p99 or p99.9), throughput, errors or valid", m.text)
		}
		if !(p > 0 && p < 100) {
			return fail(m.col+1, "percentile %s is not between 0 and 100", name[1:])
		}
		t.Metric, t.P = Percentile, p
	default:
		return fail(m.col, "unknown metric %q: want pNN (a percentile such as p99 or p99.9), throughput, errors or valid", m.text)
	}
	if len(toks) < 2 {
		return fail(end, "want a comparison (<, <=, >, >=) after %q", m.text)
	}
	op := toks[1]
	switch op.text {
	case "<", "<=", ">", ">=":
		t.Op = op.text
	default:
		return fail(op.col, "want a comparison (<, <=, >, >=), not %q", op.text)
	}
	if len(toks) < 3 {
		return fail(end, "want a value after '%s'", op.text)
	}
	v := toks[2]
	rest := toks[3:]
	// "2x baseline", "2 x baseline", "2x" "baseline"
	if len(rest) > 0 && strings.EqualFold(rest[len(rest)-1].text, "baseline") {
		return baselineValue(t, expr, v, rest, fail)
	}
	if len(rest) > 0 {
		return fail(rest[0].col, "unexpected %q after the value", rest[0].text)
	}
	num, unit := splitNumber(v.text)
	if num == "" {
		return fail(v.col, "want a number, not %q", v.text)
	}
	x, err := strconv.ParseFloat(num, 64)
	if err != nil || x < 0 {
		return fail(v.col, "%q is not a number 0 or above", num)
	}
	unitCol := v.col + len(num)
	switch t.Metric {
	case Percentile:
		scale, ok := map[string]float64{"ms": 1, "s": 1000, "us": 0.001, "µs": 0.001}[strings.ToLower(unit)]
		if !ok {
			if unit == "" {
				return fail(unitCol, "want a unit after %s: ms, s or us", num)
			}
			return fail(unitCol, "unknown unit %q: want ms, s or us", unit)
		}
		t.Limit = x * scale
	case Throughput:
		switch strings.ToLower(unit) {
		case "", "/s", "rps", "req/s":
		default:
			return fail(unitCol, "unknown unit %q: want /s (requests per second)", unit)
		}
		t.Limit = x
	case Errors:
		if unit != "%" {
			return fail(unitCol, "want a percentage such as 1%%")
		}
		if x > 100 {
			return fail(v.col, "%s%% is above 100%%", num)
		}
		t.Limit = x / 100
	}
	return t, nil
}

// baselineValue reads "Nx baseline": a multiple of the deployment's
// baseline, for a percentile or the throughput.
func baselineValue(t Threshold, expr string, v token, rest []token, fail func(int, string, ...any) (Threshold, error)) (Threshold, error) {
	if t.Metric == Errors {
		return fail(rest[len(rest)-1].col, "errors compare with a percentage, not with the baseline")
	}
	text := v.text
	switch {
	case len(rest) == 2 && strings.EqualFold(rest[0].text, "x"):
	case len(rest) == 1 && strings.HasSuffix(strings.ToLower(text), "x"):
		text = text[:len(text)-1]
	default:
		return fail(v.col, "want a factor such as 2x before baseline")
	}
	x, err := strconv.ParseFloat(text, 64)
	if err != nil || !(x > 0) {
		return fail(v.col, "%q is not a factor above 0 (such as 2x)", text)
	}
	t.Limit, t.Baseline = x, true
	return t, nil
}

// splitNumber cuts "50ms" into "50" and "ms".
func splitNumber(s string) (num, unit string) {
	i := 0
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
		i++
	}
	return s[:i], s[i:]
}
