//go:build linux

package protocol

import (
	"fmt"
	"os"
	"syscall"
)

// shmDir is where Linux keeps POSIX shared-memory objects: the object
// "/name" is the file shmDir/name (what shm_open opens).
const shmDir = "/dev/shm"

// createSHM creates the POSIX shared-memory object "/name" of size bytes,
// readable and writable by its owner only, and maps it.
func createSHM(name string, size int) ([]byte, error) {
	path := shmDir + "/" + name
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("creating shared memory %s: %w", path, err)
	}
	defer f.Close() // the mapping outlives the descriptor
	if err := f.Truncate(int64(size)); err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("sizing shared memory %s to %d bytes: %w", path, size, err)
	}
	mem, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("mapping shared memory %s (%d bytes): %w", path, size, err)
	}
	return mem, nil
}

// unlinkSHM removes the object's name (shm_unlink): the mappings already
// made, the client's and the server's, stay valid until unmapped.
func unlinkSHM(name string) error {
	err := os.Remove(shmDir + "/" + name)
	if os.IsNotExist(err) {
		return nil
	}
	return err
}

func unmapSHM(mem []byte) error { return syscall.Munmap(mem) }
