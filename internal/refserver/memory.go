package refserver

import (
	"strconv"
	"sync/atomic"

	"github.com/inferbench/inferbench/internal/bytesize"
)

// memoryExceeded reports whether admitting a request that holds add bytes,
// with inflight bytes already held, goes over limit (0: no limit).
func memoryExceeded(inflight, add, limit int64) bool {
	return limit > 0 && add > 0 && inflight+add > limit
}

// memoryBudget tracks the bytes held by a pod's requests in flight.
type memoryBudget struct {
	limit    int64
	inflight atomic.Int64
}

// reserve admits add bytes, or reports false if that would exceed the limit.
func (b *memoryBudget) reserve(add int64) bool {
	if add <= 0 {
		return true
	}
	for {
		cur := b.inflight.Load()
		if memoryExceeded(cur, add, b.limit) {
			return false
		}
		if b.inflight.CompareAndSwap(cur, cur+add) {
			return true
		}
	}
}

func (b *memoryBudget) release(n int64) {
	if n > 0 {
		b.inflight.Add(-n)
	}
}

// ParseBytes reads a size in bytes: a whole number, or a number with a
// unit: B, KB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (powers of
// 1024), case-insensitive, for example 100MB, 1.5GiB, 4096 (bytesize.Parse).
func ParseBytes(s string) (int64, error) { return bytesize.Parse(s) }

// FormatBytes writes a size the way ParseBytes reads it, in the largest
// decimal unit that keeps it short.
func FormatBytes(n int64) string {
	for _, u := range []struct {
		name string
		v    int64
	}{{"TB", 1e12}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}} {
		if n >= u.v {
			return strconv.FormatFloat(float64(n)/float64(u.v), 'f', -1, 64) + u.name
		}
	}
	return strconv.FormatInt(n, 10) + "B"
}
