package protocol

import (
	"strconv"
	"strings"
)

// A small JSON scanner for checking answers in place: find the value at a
// path and count an array's elements, without decoding or allocating.
// Keys are compared as written (escaped keys are not unescaped).

// jsonSpace skips white space from i.
func jsonSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// jsonString returns the end (after the closing quote) of the string that
// starts at b[i] == '"', or -1.
func jsonString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return -1
}

// jsonSkip returns the end of the value that starts at i (white space
// before it skipped), or -1 when it is not a complete value. Nesting is
// counted, not checked in full: json.Valid does that where it matters.
func jsonSkip(b []byte, i int) int {
	i = jsonSpace(b, i)
	if i >= len(b) {
		return -1
	}
	switch c := b[i]; {
	case c == '"':
		return jsonString(b, i)
	case c == '{' || c == '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				end := jsonString(b, i)
				if end < 0 {
					return -1
				}
				i = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return -1
	default: // number, true, false, null
		start := i
		for i < len(b) && strings.IndexByte(" \t\r\n,]}", b[i]) < 0 {
			i++
		}
		if i == start {
			return -1
		}
		return i
	}
}

// jsonLookup finds the value at a dot-separated path ("data.0.index":
// object keys, and array indexes as numbers) and returns it, white space
// trimmed; the empty path is the whole document.
func jsonLookup(b []byte, path string) ([]byte, bool) {
	start := jsonSpace(b, 0)
	end := jsonSkip(b, start)
	if end < 0 {
		return nil, false
	}
	v := b[start:end]
	for path != "" {
		var step string
		step, path, _ = strings.Cut(path, ".")
		var ok bool
		if v, ok = jsonChild(v, step); !ok {
			return nil, false
		}
	}
	return v, true
}

// jsonChild returns the member of an object named key, or the element of
// an array at the index key spells.
func jsonChild(v []byte, key string) ([]byte, bool) {
	if len(v) == 0 {
		return nil, false
	}
	switch v[0] {
	case '{':
		i := jsonSpace(v, 1)
		for i < len(v) && v[i] == '"' {
			kend := jsonString(v, i)
			if kend < 0 {
				return nil, false
			}
			name := v[i+1 : kend-1]
			i = jsonSpace(v, kend)
			if i >= len(v) || v[i] != ':' {
				return nil, false
			}
			vstart := jsonSpace(v, i+1)
			vend := jsonSkip(v, vstart)
			if vend < 0 {
				return nil, false
			}
			if string(name) == key {
				return v[vstart:vend], true
			}
			i = jsonSpace(v, vend)
			if i < len(v) && v[i] == ',' {
				i = jsonSpace(v, i+1)
			}
		}
	case '[':
		want, err := strconv.Atoi(key)
		if err != nil || want < 0 {
			return nil, false
		}
		i := jsonSpace(v, 1)
		for n := 0; i < len(v) && v[i] != ']'; n++ {
			end := jsonSkip(v, i)
			if end < 0 {
				return nil, false
			}
			if n == want {
				return v[i:end], true
			}
			i = jsonSpace(v, end)
			if i < len(v) && v[i] == ',' {
				i = jsonSpace(v, i+1)
			}
		}
	}
	return nil, false
}

// jsonArrayLen is the number of elements of an array, -1 for another value.
func jsonArrayLen(v []byte) int {
	if len(v) == 0 || v[0] != '[' {
		return -1
	}
	n := 0
	i := jsonSpace(v, 1)
	for i < len(v) && v[i] != ']' {
		end := jsonSkip(v, i)
		if end < 0 {
			return -1
		}
		n++
		i = jsonSpace(v, end)
		if i < len(v) && v[i] == ',' {
			i = jsonSpace(v, i+1)
		}
	}
	return n
}
