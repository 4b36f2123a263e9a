package analyze

import "fmt"

// DefaultMemoryPerRequest is the field guide's estimate (issue 3, out of
// memory): "typical memory per request: ~100MB; 32 concurrent = 3.2GB".
const DefaultMemoryPerRequest = 100_000_000

// MemoryWarning is the guide's memory check before a level: with inflight
// requests (the concurrency, or an open loop's expected requests in
// flight) of perRequest bytes each, does the pod's memory limit hold?
// It returns "" when it does, or when either size is unknown.
func MemoryWarning(inflight float64, perRequest, limit int64) string {
	if perRequest <= 0 || limit <= 0 || inflight <= 0 {
		return ""
	}
	need := inflight * float64(perRequest)
	if need <= float64(limit) {
		return ""
	}
	return fmt.Sprintf("memory: %g requests in flight x %s per request = %s, above the pod's limit of %s: the pod may be OOM-killed; %d fit (field guide: reduce concurrency, check the limit with kubectl describe pod)",
		inflight, gigabytes(float64(perRequest)), gigabytes(need), gigabytes(float64(limit)), int64(float64(limit)/float64(perRequest)))
}

// gigabytes writes a size in GB or MB, decimal as the guide writes them.
func gigabytes(b float64) string {
	if b >= 1e9 {
		return fmt.Sprintf("%.1f GB", b/1e9)
	}
	return fmt.Sprintf("%.0f MB", b/1e6)
}
