//go:build !linux

package protocol

import "errors"

var errSHMOS = errors.New("system shared memory is supported on Linux only (POSIX objects under /dev/shm)")

func createSHM(name string, size int) ([]byte, error) { return nil, errSHMOS }
func unlinkSHM(name string) error                     { return nil }
func unmapSHM(mem []byte) error                       { return nil }
