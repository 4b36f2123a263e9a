package clock

import (
	"fmt"
	"time"
)

// SkewThreshold is how far a loader's clock may be from the coordinator's
// before it is worth a warning: every loader starts a step at a wall-clock
// time the coordinator sets.
const SkewThreshold = 50 * time.Millisecond

// Skew compares a loader's clock with the coordinator's, both measured
// against the same server.
type Skew struct {
	// Skew is loader minus coordinator: positive when the loader's clock
	// is ahead, so that it starts each step early.
	Skew time.Duration
	// Uncertainty is the sum of both estimates' uncertainties.
	Uncertainty time.Duration
	// Over says the skew is beyond the threshold even at the near end of
	// its interval: |Skew| - Uncertainty > threshold.
	Over bool
	// Message is one line for the user, such as "loader 2's clock is 73 ms
	// ahead of the coordinator's (±4.0 ms, through the API server's Date
	// header): it starts each step 73 ms early".
	Message string
}

// CompareSkew compares the estimate of the loader named loader with the
// coordinator's. Both estimates are offsets from the same server, so
// their difference is the loader's clock minus the coordinator's.
func CompareSkew(loader string, coordinator, est Estimate, threshold time.Duration) Skew {
	s := Skew{Skew: est.Offset - coordinator.Offset, Uncertainty: est.Uncertainty + coordinator.Uncertainty}
	size := s.Skew
	dir, when := "ahead of", "early"
	if size < 0 {
		size = -size
		dir, when = "behind", "late"
	}
	s.Over = size-s.Uncertainty > threshold
	s.Message = fmt.Sprintf("%s's clock is %s %s the coordinator's (±%s, through the API server's Date header): it starts each step %s %s",
		loader, ms(size), dir, ms(s.Uncertainty), ms(size), when)
	return s
}
