package plan

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): `)

// syntaxError places a YAML syntax error at the line and column of its
// cause. yaml.v3 names the line where the construct around the problem
// began (a bad indentation on line 4 is "line 1", an unclosed '{' on line
// 7 "line 6"), so the line is found again: the first line from there on
// whose text, parsed with the lines before it, fails the same way.
func (p *parser) syntaxError(data []byte, err error) error {
	msg := err.Error()
	m := yamlLine.FindStringSubmatch(msg)
	if m == nil {
		return &Error{File: p.file, Msg: "YAML syntax: " + strings.TrimPrefix(msg, "yaml: ")}
	}
	what := msg[len(m[0]):]
	reported, _ := strconv.Atoi(m[1])
	line, column := syntaxPlace(data, what, reported)
	return &Error{File: p.file, Line: line, Column: column, Msg: "YAML syntax: " + what}
}

// syntaxPlace finds the line and column of a syntax error that yaml.v3
// reported at line reported with the message what.
func syntaxPlace(data []byte, what string, reported int) (line, column int) {
	lines := bytes.SplitAfter(data, []byte("\n"))
	fails := func(n int) bool { // the first n lines fail as the whole does
		var doc yaml.Node
		err := yaml.Unmarshal(bytes.Join(lines[:n], nil), &doc)
		if err == nil {
			return false
		}
		m := yamlLine.FindStringSubmatch(err.Error())
		return m != nil && err.Error()[len(m[0]):] == what
	}
	// Past the cause every prefix fails the same way; before it, one
	// fails only when cut inside a construct: search from the reported
	// line, where the construct began, by halves.
	lo, hi := max(reported, 1), len(lines)
	if lo > hi || !fails(hi) {
		return reported, 1
	}
	for lo < hi {
		mid := (lo + hi) / 2
		if fails(mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	text := string(lines[lo-1])
	column = len(text) - len(strings.TrimLeft(text, " ")) + 1
	switch {
	case strings.Contains(what, "tab character"):
		if i := strings.IndexByte(text, '\t'); i >= 0 {
			column = i + 1
		}
	case strings.Contains(what, "'}'"), strings.Contains(what, "']'"):
		open := "{"
		if strings.Contains(what, "']'") {
			open = "["
		}
		if i := strings.LastIndex(text, open); i >= 0 {
			column = i + 1
		}
	}
	return lo, column
}
