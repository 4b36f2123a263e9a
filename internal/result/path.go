package result

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// maxLinks bounds the symbolic links followed to a file (Linux's own
// limit is 40).
const maxLinks = 40

// ResolveLinks follows path while it is a symbolic link, dangling or not,
// and returns the path at the end: the file a write to path means. A
// relative link is taken from its link's folder. A path that does not
// exist is returned as it is.
func ResolveLinks(path string) (string, error) {
	for range maxLinks {
		info, err := os.Lstat(path)
		if errors.Is(err, fs.ErrNotExist) {
			return path, nil
		}
		if err != nil {
			return "", err
		}
		if info.Mode()&fs.ModeSymlink == 0 {
			return path, nil
		}
		target, err := os.Readlink(path)
		if err != nil {
			return "", err
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(path), target)
		}
		path = target
	}
	return "", fmt.Errorf("%s: more than %d symbolic links", path, maxLinks)
}

// Kind names what a file mode is, for messages: "a folder", "a device".
func Kind(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "a regular file"
	case m.IsDir():
		return "a folder"
	case m&fs.ModeDevice != 0 || m&fs.ModeCharDevice != 0:
		return "a device"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "not a regular file"
}

// WritableTarget resolves path's symbolic links and checks that a result
// file may be written there: nothing is there yet, or a regular file that
// is writable (its mode has a write bit, which root is held to as well,
// and it opens for writing). Anything else (a folder, a device, a pipe,
// a read-only file) is refused: Write replaces a file by renaming over
// it, which would replace the device, not write through it. It returns
// the resolved path and what is there (nil when nothing is).
func WritableTarget(path string) (string, fs.FileInfo, error) {
	target, err := ResolveLinks(path)
	if err == nil {
		var info fs.FileInfo
		if info, err = os.Stat(target); errors.Is(err, fs.ErrNotExist) {
			return target, nil, nil
		}
		if err == nil {
			return checkTarget(path, target, info)
		}
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return "", nil, fmt.Errorf("%s: %w", path, err)
}

// checkTarget checks what is at target (path resolved).
func checkTarget(path, target string, info fs.FileInfo) (string, fs.FileInfo, error) {
	name := path
	if target != path {
		name = fmt.Sprintf("%s (a link to %s)", path, target)
	}
	if !info.Mode().IsRegular() {
		return "", nil, fmt.Errorf("%s is %s: results are written to regular files only", name, Kind(info.Mode()))
	}
	if info.Mode().Perm()&0o222 == 0 {
		return "", nil, fmt.Errorf("%s is read-only: make it writable (chmod u+w) or choose another path", name)
	}
	f, err := os.OpenFile(target, os.O_WRONLY, 0)
	if err != nil {
		return "", nil, fmt.Errorf("%s cannot be written: %w", name, err)
	}
	f.Close()
	return target, info, nil
}
