package jsonscan

import (
	"encoding/json"
	"testing"
)

func TestLookup(t *testing.T) {
	doc := []byte(` {"data": [ {"index": 0, "bounding_boxes": {"a\"b": [1, 2], "person": [{"x_min": 0.1}]}},
		{"index": 1, "bounding_boxes": {}} ], "ok": true, "n": -1.5e3, "s": "x,]}"} `)
	tests := []struct {
		path, want string
		ok         bool
	}{
		{"", string(doc[1 : len(doc)-1]), true},
		{"ok", "true", true},
		{"n", "-1.5e3", true},
		{"s", `"x,]}"`, true},
		{"data.1.index", "1", true},
		{"data.0.bounding_boxes.person.0.x_min", "0.1", true},
		{"data.1.bounding_boxes", "{}", true},
		{"data.2", "", false},
		{"data.x", "", false},
		{"missing", "", false},
		{"ok.deeper", "", false},
	}
	for _, tt := range tests {
		got, ok := Lookup(doc, tt.path)
		if ok != tt.ok || string(got) != tt.want {
			t.Errorf("%q: %q %v, want %q %v", tt.path, got, ok, tt.want, tt.ok)
		}
	}
	data, _ := Lookup(doc, "data")
	if n := ArrayLen(data); n != 2 {
		t.Errorf("len(data) = %d", n)
	}
	for _, v := range []string{`[]`, `[ ]`, `[1]`, `[[1,2],{"a":[3]}, "]"]`} {
		var want []any
		json.Unmarshal([]byte(v), &want)
		if n := ArrayLen([]byte(v)); n != len(want) {
			t.Errorf("%s: %d elements, want %d", v, n, len(want))
		}
	}
	if ArrayLen([]byte(`{}`)) != -1 {
		t.Error("an object counted as an array")
	}
	for _, bad := range []string{``, `{"a": `, `["x`, `{"a" 1}`} {
		if _, ok := Lookup([]byte(bad), "a"); ok {
			t.Errorf("%q: found", bad)
		}
	}
}

func TestLookupAllocatesNothing(t *testing.T) {
	doc := []byte(`{"data": [{"index": 0, "bounding_boxes": {"person": [{"x_min": 0.1}]}}]}`)
	allocs := testing.AllocsPerRun(100, func() {
		v, _ := Lookup(doc, "data")
		_ = ArrayLen(v)
		_, _ = Lookup(doc, "data.0.bounding_boxes.person")
	})
	if allocs != 0 {
		t.Errorf("%v allocations per lookup", allocs)
	}
}
