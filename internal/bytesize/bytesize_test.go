package bytesize

import "testing"

func TestParse(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int64
		err  bool
	}{
		{"4096", 4096, false}, {"100MB", 100e6, false}, {"1.5GiB", 3 << 29, false}, {"64 mib", 64 << 20, false},
		{"2KB", 2000, false}, {"7B", 7, false}, {"", 0, true}, {"MB", 0, true}, {"-1MB", 0, true}, {"5 parsecs", 0, true},
		{"1e30", 0, true}, {"9TiB", 9 << 40, false},
	} {
		got, err := Parse(tt.in)
		if got != tt.want || (err != nil) != tt.err {
			t.Errorf("Parse(%q) = %d, %v; want %d (error %v)", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestFormatRoundTrips(t *testing.T) {
	for _, n := range []int64{1, 1000, 1024, 1536, 64 << 20, 67108863, 3 << 30, 5 << 40} {
		s := Format(n)
		if got, err := Parse(s); err != nil || got != n {
			t.Errorf("Format(%d) = %q, read back as %d, %v", n, s, got, err)
		}
	}
	if got := Format(64 << 20); got != "64MiB" {
		t.Errorf("Format(64 MiB) = %q", got)
	}
}
