package session

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/result"
)

func TestCheckFiles(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "results.json")
	f := result.New("test", time.Unix(0, 0))
	f.Runs = append(f.Runs, result.Run{}, result.Run{})
	f.Plan = &result.PlanInfo{Path: "old.yaml"}
	if err := result.Write(existing, f); err != nil {
		t.Fatal(err)
	}
	notResults := filepath.Join(dir, "notes.txt")
	readOnly := filepath.Join(dir, "ro.html")
	os.WriteFile(notResults, []byte("my notes"), 0o644)
	os.WriteFile(readOnly, []byte("x"), 0o444)
	for _, tt := range []struct {
		name string
		o    Options
		want string // "" when allowed
	}{
		{"new file in a missing folder", Options{ResultsPath: filepath.Join(dir, "a", "b", "r.json")}, ""},
		{"existing results", Options{ResultsPath: existing}, "already holds results (2 runs of old.yaml): --resume finishes those runs, --force replaces them"},
		{"existing other file", Options{ResultsPath: notResults}, "already holds a file that is not a result file"},
		{"existing results, resume", Options{ResultsPath: existing, Resume: true}, ""},
		{"existing results, force", Options{ResultsPath: existing, Force: true}, ""},
		{"resume of nothing", Options{ResultsPath: filepath.Join(dir, "none.json"), Resume: true}, "there is nothing to resume"},
		{"results on a folder", Options{ResultsPath: dir, Force: true}, "is a folder"},
		{"results read-only", Options{ResultsPath: readOnly, Force: true}, "is read-only"},
		{"report in a missing folder", Options{Reports: []Report{{Format: "md", Path: filepath.Join(dir, "c", "r.md")}}}, ""},
		{"report replaced", Options{Reports: []Report{{Format: "md", Path: notResults}}}, ""},
		{"report on a folder", Options{Reports: []Report{{Format: "md", Path: dir}}}, "is a folder"},
		{"report read-only", Options{Reports: []Report{{Format: "html", Path: readOnly}}}, "is read-only"},
		{"report to stdout", Options{Reports: []Report{{Format: "text"}}}, ""},
	} {
		err := checkFiles(tt.o)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "a", "b")); err != nil {
		t.Errorf("the missing folder was not made: %v", err)
	}
	if fi, err := os.Stat("/dev/null"); err == nil && fi.Mode()&os.ModeDevice != 0 {
		if err := checkFiles(Options{Reports: []Report{{Format: "csv", Path: "/dev/null"}}}); err != nil {
			t.Errorf("a report through /dev/null: %v", err)
		}
		if err := checkFiles(Options{ResultsPath: "/dev/null", Force: true}); err == nil || !strings.Contains(err.Error(), "is a device") {
			t.Errorf("results onto /dev/null: %v", err)
		}
	}
}

func TestOtherPlan(t *testing.T) {
	a := &result.PlanInfo{Path: "a.yaml", Text: "deployments: []"}
	for _, tt := range []struct {
		name            string
		stored, current *result.PlanInfo
		differs         bool
	}{
		{"same text, moved file", a, &result.PlanInfo{Path: "b/a.yaml", Text: a.Text}, false},
		{"other text", a, &result.PlanInfo{Path: "a.yaml", Text: "deployments: [x]"}, true},
		{"quick then full", &result.PlanInfo{Text: "t", Quick: true}, &result.PlanInfo{Text: "t"}, true},
		{"no plan stored", nil, a, true},
		{"neither", nil, nil, false},
	} {
		if got := otherPlan(tt.stored, tt.current); (got != "") != tt.differs {
			t.Errorf("%s: otherPlan = %q, want differs %v", tt.name, got, tt.differs)
		}
	}
}
