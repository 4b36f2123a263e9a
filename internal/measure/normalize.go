package measure

import "strings"

// Normalize rewrites the parts of an error message that change from one
// request to the next, so that messages that differ only there group
// together: a UUID becomes <uuid>, a hex number (0x...) <hex>, an id (a
// word of 8 or more hex digits, one of them a digit: a trace id, a long
// number) <id>, an IPv4 or bracketed IPv6 address with its port <addr>,
// and a shorter number <n> (with its fraction: "<n>s" for "1.5s"). A status code stays, since it says what happened: a number
// after "HTTP", "status" or "code" is kept. Digits inside a word
// ("yolov8n", "output0") are part of the word and stay.
func Normalize(msg string) string {
	var b strings.Builder
	changed := false
	for i := 0; i < len(msg); {
		if boundary(msg, i) {
			if n, token := match(msg, i); n > 0 {
				if !changed {
					b.Grow(len(msg))
					b.WriteString(msg[:i])
					changed = true
				}
				b.WriteString(token)
				i += n
				continue
			}
		}
		if changed {
			b.WriteByte(msg[i])
		}
		i++
	}
	if !changed {
		return msg
	}
	return b.String()
}

// match returns the length of the variable token that starts at s[i], and
// what replaces it; 0 if none does.
func match(s string, i int) (int, string) {
	switch {
	case isUUID(s, i):
		return 36, "<uuid>"
	case s[i] == '[':
		if n := ipv6(s, i); n > 0 {
			return n, "<addr>"
		}
	case s[i] == '0' && i+2 < len(s) && (s[i+1] == 'x' || s[i+1] == 'X') && isHex(s[i+2]):
		n := 2 + hexRun(s, i+2)
		if wordEnd(s, i+n) {
			return n, "<hex>"
		}
	}
	if !isHex(s[i]) {
		return 0, ""
	}
	if n := ipv4(s, i); n > 0 {
		return n, "<addr>"
	}
	if n := hexRun(s, i); n >= 8 && wordEnd(s, i+n) && strings.ContainsAny(s[i:i+n], "0123456789") {
		return n, "<id>"
	}
	if !isDigit(s[i]) {
		return 0, ""
	}
	n := digitRun(s, i)
	if i+n+1 < len(s) && s[i+n] == '.' && isDigit(s[i+n+1]) {
		n += 1 + digitRun(s, i+n+1)
	}
	if statusWord(s[:i]) {
		return 0, ""
	}
	return n, "<n>"
}

// statusWord reports whether the text before a number ends with a word
// that makes the number a status code: "HTTP 503", "status 404",
// "status code: 500", "code = 14".
func statusWord(before string) bool {
	before = strings.TrimRight(before, " :=")
	j := len(before)
	for j > 0 && isLetter(before[j-1]) {
		j--
	}
	switch strings.ToLower(before[j:]) {
	case "http", "status", "code":
		return true
	}
	return false
}

// boundary reports whether s[i] starts a word: the byte before is not a
// letter, digit or underscore.
func boundary(s string, i int) bool {
	return i == 0 || !(isLetter(s[i-1]) || isDigit(s[i-1]) || s[i-1] == '_')
}

// wordEnd reports whether a token ending before s[j] ends a word.
func wordEnd(s string, j int) bool {
	return j >= len(s) || !(isLetter(s[j]) || isDigit(s[j]) || s[j] == '_')
}

func isUUID(s string, i int) bool {
	if len(s)-i < 36 || !wordEnd(s, i+36) {
		return false
	}
	for k := 0; k < 36; k++ {
		c := s[i+k]
		if k == 8 || k == 13 || k == 18 || k == 23 {
			if c != '-' {
				return false
			}
		} else if !isHex(c) {
			return false
		}
	}
	return true
}

// ipv4 is the length of a dotted quad at s[i], with its ":port" if any.
func ipv4(s string, i int) int {
	j := i
	for part := 0; part < 4; part++ {
		if part > 0 {
			if j >= len(s) || s[j] != '.' {
				return 0
			}
			j++
		}
		n := digitRun(s, j)
		if n == 0 || n > 3 {
			return 0
		}
		j += n
	}
	if !wordEnd(s, j) && s[j] != ':' {
		return 0
	}
	return j + port(s, j) - i
}

// ipv6 is the length of a bracketed IPv6 address at s[i] ("[::1]",
// "[fe80::1%eth0]"), with its ":port" if any.
func ipv6(s string, i int) int {
	end := strings.IndexByte(s[i:], ']')
	if end < 3 || end > 60 {
		return 0
	}
	inner := s[i+1 : i+end]
	if !strings.Contains(inner, ":") {
		return 0
	}
	for k := 0; k < len(inner); k++ {
		if c := inner[k]; !isHex(c) && c != ':' && c != '.' && c != '%' && !isLetter(c) && !isDigit(c) {
			return 0
		}
	}
	j := i + end + 1
	return j + port(s, j) - i
}

// port is the length of a ":1234" at s[j], 0 if there is none.
func port(s string, j int) int {
	if j < len(s) && s[j] == ':' {
		if n := digitRun(s, j+1); n > 0 && n <= 5 && wordEnd(s, j+1+n) {
			return 1 + n
		}
	}
	return 0
}

func digitRun(s string, i int) int {
	j := i
	for j < len(s) && isDigit(s[j]) {
		j++
	}
	return j - i
}

func hexRun(s string, i int) int {
	j := i
	for j < len(s) && isHex(s[j]) {
		j++
	}
	return j - i
}

func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isHex(c byte) bool    { return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }
