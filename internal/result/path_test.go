package result

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestWriteFollowsLinksAndRefusesWhatIsNotAFile(t *testing.T) {
	dir := t.TempDir()
	f := New("test", time.Unix(0, 0))
	real := filepath.Join(dir, "real.json")
	if err := os.WriteFile(real, []byte("old"), 0o640); err != nil {
		t.Fatal(err)
	}
	// A link to a file: the file is replaced, the link stays, the mode is kept.
	link := filepath.Join(dir, "link.json")
	if err := os.Symlink("real.json", link); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	if err := Write(link, f); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link was replaced: %v %v", fi.Mode(), err)
	}
	if got, err := Read(real); err != nil || got.Tool.Version != "test" {
		t.Errorf("the link's target was not written: %v", err)
	}
	if fi, _ := os.Stat(real); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want the file's own 0640", fi.Mode().Perm())
	}
	// A dangling link (through a chain): its target is made.
	if err := os.Symlink(filepath.Join(dir, "made.json"), filepath.Join(dir, "hop.json")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("hop.json", filepath.Join(dir, "dangling.json")); err != nil {
		t.Fatal(err)
	}
	if err := Write(filepath.Join(dir, "dangling.json"), f); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(filepath.Join(dir, "made.json")); err != nil {
		t.Errorf("the dangling link's target was not made: %v", err)
	}
	// A loop of links.
	os.Symlink("b", filepath.Join(dir, "a"))
	os.Symlink("a", filepath.Join(dir, "b"))

	readOnly := filepath.Join(dir, "ro.json")
	if err := os.WriteFile(readOnly, []byte("keep"), 0o444); err != nil {
		t.Fatal(err)
	}
	refused := map[string]string{
		readOnly:                  "is read-only",
		dir:                       "is a folder",
		filepath.Join(dir, "a"):   "more than 40 symbolic links",
		filepath.Join(dir, "ro2"): "is read-only",
	}
	os.Symlink("ro.json", filepath.Join(dir, "ro2"))
	if fi, err := os.Stat("/dev/null"); err == nil && fi.Mode()&os.ModeDevice != 0 {
		refused["/dev/null"] = "is a device"
	}
	for path, want := range refused {
		err := Write(path, f)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Write(%s) = %v, want %q", path, err, want)
		}
	}
	if data, _ := os.ReadFile(readOnly); string(data) != "keep" {
		t.Errorf("the read-only file was overwritten: %q", data)
	}
	if fi, err := os.Stat("/dev/null"); err == nil && fi.Mode()&os.ModeDevice == 0 {
		t.Errorf("/dev/null was replaced: %v", fi.Mode())
	}
	if entries, _ := filepath.Glob(filepath.Join(dir, ".*.tmp")); len(entries) != 0 {
		t.Errorf("temporary files left: %v", entries)
	}
}
