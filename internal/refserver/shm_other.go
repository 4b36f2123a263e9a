//go:build !linux

package refserver

import "errors"

// mapSHM: system shared memory is served on Linux only.
func mapSHM(key string, offset, size int64) ([]byte, func() error, error) {
	return nil, nil, errors.New("system shared memory is not supported on this OS by the reference server")
}
