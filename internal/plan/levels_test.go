package plan

import (
	"fmt"
	"strings"
	"testing"
)

func TestParseConcurrencyRange(t *testing.T) {
	tests := []struct {
		in   string
		want string // levels, or "error: part of the message"
	}{
		{"1:32:x2", "[1 2 4 8 16 32]"},
		{"1:40:x2", "[1 2 4 8 16 32]"},
		{"1:10:x1.5", "[1 2 3 5 8]"},
		{"4:16:+4", "[4 8 12 16]"},
		{"4:16:4", "[4 8 12 16]"},
		{"8", "[8]"},
		{"1,2,4,8", "[1 2 4 8]"},
		{" 1, 8 ,16", "[1 8 16]"},
		{"0:8:x2", "error: 1 <= start"},
		{"8:4:x2", "error: 1 <= start"},
		{"1:8:x1", "error: above 1"},
		{"1:8:+0", "error: at least 1"},
		{"1:8", "error: start:end"},
		{"4,2", "error: must rise"},
		{"1,a", "error: \"a\""},
		{"1:1000:+1", "error: more than 100"},
	}
	for _, tt := range tests {
		got, err := ParseConcurrencyRange(tt.in)
		if strings.HasPrefix(tt.want, "error: ") {
			if err == nil || !strings.Contains(err.Error(), strings.TrimPrefix(tt.want, "error: ")) {
				t.Errorf("%q: got %v, %v; want an error with %q", tt.in, got, err, tt.want)
			}
			continue
		}
		if err != nil || fmt.Sprint(got) != tt.want {
			t.Errorf("%q = %v, %v; want %s", tt.in, got, err, tt.want)
		}
	}
}
