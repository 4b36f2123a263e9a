package jsonscan

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestReaderMatchesValid(t *testing.T) {
	for _, s := range readerCases {
		if got, want := Valid([]byte(s)), json.Valid([]byte(s)); got != want {
			t.Errorf("%q: Reader valid=%v, json.Valid %v", s, got, want)
		}
	}
	deep := strings.Repeat("[", 10000) + strings.Repeat("]", 10000)
	if !Valid([]byte(deep)) {
		t.Error("10000 levels rejected")
	}
	if Valid([]byte("[" + deep + "]")) {
		t.Error("10001 levels accepted")
	}
}

// FuzzJSONReader checks that Reader accepts exactly what json.Valid
// accepts.
func FuzzJSONReader(f *testing.F) {
	for _, s := range readerCases {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := Valid(b), json.Valid(b); got != want {
			t.Fatalf("Reader says valid=%v, json.Valid says %v for %q", got, want, b)
		}
	})
}

// readerCases are valid and invalid documents for the differential test.
var readerCases = []string{
	``, ` `, `{}`, `[]`, `{"a":1}`, `{"a":[1,2,{"b":null}]}`, `[1,]`, `{"a":1,}`, `{,}`, `[,1]`,
	`"abc"`, `"a\"b"`, `"\u00e9"`, `"\u00g9"`, `"\x"`, "\"a\nb\"", "\"\xff\"", `"\/"`, `"`, `"\`, `"\u12`,
	`0`, `-0`, `01`, `-`, `1.`, `.5`, `1.5e`, `1.5e+`, `1e5`, `1E-5`, `-1.5E+10`, `+1`, `1e5.5`, `0x10`,
	`true`, `false`, `null`, `tru`, `nul`, `truex`, `True`, `NaN`, `Infinity`,
	`{"a" 1}`, `{"a":}`, `{a:1}`, `{"a":1 "b":2}`, `[1 2]`, `[[[]]]`, `[[[]]`, `{}}`, `{} {}`, `[] `,
	"\t[\r\n1 , 2 ]\n", "\v[]", "[\u00a0]",
}
