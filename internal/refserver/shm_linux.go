//go:build linux

package refserver

import (
	"fmt"
	"os"
	"strings"
	"syscall"
)

// mapSHM maps size bytes at offset of the POSIX shared-memory object key
// ("/name", a file under /dev/shm on Linux), for reading and writing.
func mapSHM(key string, offset, size int64) ([]byte, func() error, error) {
	name := strings.TrimPrefix(key, "/")
	if name == "" || strings.Contains(name, "/") {
		return nil, nil, fmt.Errorf("key must be /name")
	}
	f, err := os.OpenFile("/dev/shm/"+name, os.O_RDWR, 0)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close() // the mapping outlives the descriptor
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if offset+size > fi.Size() {
		return nil, nil, fmt.Errorf("offset %d + byte_size %d is beyond the object's %d bytes", offset, size, fi.Size())
	}
	// mmap's offset must be page-aligned: map from the page and slice.
	page := int64(os.Getpagesize())
	start := offset / page * page
	mem, err := syscall.Mmap(int(f.Fd()), start, int(offset-start+size), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		return nil, nil, fmt.Errorf("unable to process address space or shared-memory descriptor: %w", err)
	}
	return mem[offset-start:], func() error { return syscall.Munmap(mem) }, nil
}
