package report

import "testing"

func TestCSVSafe(t *testing.T) {
	for in, want := range map[string]string{
		"":                               "",
		"nim-grpc":                       "nim-grpc",
		"-1.5":                           "-1.5",
		"+3":                             "+3",
		"=HYPERLINK(\"http://x\",\"y\")": "'=HYPERLINK(\"http://x\",\"y\")",
		"@SUM(A1)":                       "'@SUM(A1)",
		"-cmd|' /C calc'!A0":             "'-cmd|' /C calc'!A0",
		"+1+1":                           "'+1+1",
		"\tx":                            "'\tx",
		"HTTP 500: =1+1":                 "HTTP 500: =1+1",
	} {
		if got := csvSafe(in); got != want {
			t.Errorf("csvSafe(%q) = %q, want %q", in, got, want)
		}
	}
}
