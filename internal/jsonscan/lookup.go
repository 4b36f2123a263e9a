package jsonscan

import (
	"errors"
	"strconv"
	"strings"
)

// Valid reports whether b is one JSON value, white space around it
// allowed: what json.Valid accepts.
func Valid(b []byte) bool {
	r := Reader{b: b}
	_, err := r.Value()
	return err == nil && r.End() == nil
}

// errFound stops a walk at the value looked for.
var errFound = errors.New("found")

// Lookup finds the value at a dot-separated path ("data.0.index": object
// keys, and array indexes as numbers) in the JSON document b and returns
// it, white space trimmed; the empty path is the whole document. Keys
// are compared as written (an escaped key is not unescaped). The value
// found is validated, and so is everything read before it; the rest of
// the document is not: check it with Valid where that matters. It does
// not allocate.
func Lookup(b []byte, path string) ([]byte, bool) {
	r := Reader{b: b}
	for {
		var step string
		var more bool
		step, path, more = strings.Cut(path, ".")
		if step == "" && !more {
			v, err := r.Value()
			return v, err == nil
		}
		if !r.child(step) {
			return nil, false
		}
	}
}

// child moves the cursor to the member of the object at the cursor named
// key, or to the element of the array at the cursor at the index key
// spells; false when there is none.
func (r *Reader) child(key string) bool {
	var err error
	switch r.Peek() {
	case '{':
		err = r.Object(func(k []byte) error {
			if string(k[1:len(k)-1]) == key {
				r.skipSpace()
				return errFound
			}
			_, err := r.Value()
			return err
		})
	case '[':
		want, aerr := strconv.Atoi(key)
		if aerr != nil || want < 0 {
			return false
		}
		err = r.Array(func(i int) error {
			if i == want {
				r.skipSpace()
				return errFound
			}
			_, err := r.Value()
			return err
		})
	}
	return err == errFound
}

// ArrayLen is the number of elements of the array v, -1 for another
// value or an invalid one.
func ArrayLen(v []byte) int {
	r := Reader{b: v}
	if r.Peek() != '[' {
		return -1
	}
	n := 0
	err := r.Array(func(int) error { n++; _, err := r.Value(); return err })
	if err != nil || r.End() != nil {
		return -1
	}
	return n
}
