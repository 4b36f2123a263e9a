// Package sanitize makes text that came from elsewhere (a server's error
// message, a model's metadata, a result file, a plan) safe to show: in a
// terminal, where control and escape sequences would change titles,
// colours or the lines around them, and in Markdown, where HTML and table
// syntax would be interpreted. Normal UTF-8 text is kept as it is.
package sanitize

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Line quotes every control character of s the way strconv.Quote does
// (\n, \t, \x1b, \u0085, \u202e, and \xff for a byte that is not UTF-8):
// the C0 controls, DEL, the C1 controls, the bidirectional overrides and
// isolates, and the line and paragraph separators. Everything else,
// backslashes included, is kept, so that ordinary text reads as it was.
// The result is one line, safe to print on a terminal.
func Line(s string) string { return quote(s, false) }

// Lines is Line that keeps newlines and tabs: for text of several lines
// (an error joined from several) that must still not reach a terminal's
// escape sequences.
func Lines(s string) string { return quote(s, true) }

// Markdown makes s one line of literal Markdown text: control characters
// quoted as by Line, what HTML would interpret escaped as an entity (a '<'
// that could open a tag, comment or autolink, a '&' that could start an
// entity, a '>' that would start a quote), and the characters Markdown
// would interpret (table pipes, emphasis, code, links, headings) escaped
// with a backslash. Ordinary text keeps its look: "p99 <= 50ms", "[c=1 c=3]".
func Markdown(s string) string {
	s = Line(s)
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		c := s[i]
		var next byte
		if i+1 < len(s) {
			next = s[i+1]
		}
		switch {
		case c == '<' && next != ' ' && next != '=' && (next < '0' || next > '9'):
			// could open a tag, a comment or an autolink; "p99 <= 5"
			// and "< 2x" cannot
			b.WriteString("&lt;")
		case c == '>' && i == 0:
			b.WriteString("&gt;") // a quote
		case c == '&' && (next == '#' || isLetter(next)):
			b.WriteString("&amp;") // could be an entity
		case c == ']' && (next == '(' || next == '['),
			c == '[' && i == 0, (c == '#' || c == '+' || c == '-') && i == 0 && next == ' ':
			// a link or an image needs "](", a reference "][" (and a
			// definition "[r]: url" at the start);
			// a heading or a list needs its sign and a space at the start
			b.WriteByte('\\')
			b.WriteByte(c)
		case strings.IndexByte("\\`*_|~", c) >= 0:
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// unsafe reports whether r must be quoted.
func unsafe(r rune) bool {
	switch {
	case r < 0x20, r >= 0x7f && r <= 0x9f: // C0, DEL, C1
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069: // bidi controls
		return true
	case r == 0x2028, r == 0x2029: // line and paragraph separators
		return true
	}
	return false
}

func quote(s string, keepLines bool) string {
	clean := true
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && n == 1) || (unsafe(r) && !(keepLines && (r == '\n' || r == '\t'))) {
			clean = false
			break
		}
		i += n
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b.WriteString(`\x`)
			b.WriteString(strconv.FormatUint(uint64(s[i])|0x100, 16)[1:])
		case !unsafe(r) || (keepLines && (r == '\n' || r == '\t')):
			b.WriteString(s[i : i+n])
		default:
			// strconv quotes one rune as 'x' with Go's escapes; drop the quotes.
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		}
		i += n
	}
	return b.String()
}
