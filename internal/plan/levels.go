package plan

import (
	"fmt"
	"strconv"
	"strings"
)

// maxRangeLevels bounds a concurrency range.
const maxRangeLevels = 100

// ParseConcurrencyRange reads a list of concurrency levels:
// "start:end:xF" multiplies by F (1:32:x2 is 1,2,4,8,16,32), "start:end:+S"
// or "start:end:S" adds S, "a,b,c" lists them, "n" is one level. Levels
// must be at least 1 and, in a list, rise strictly.
func ParseConcurrencyRange(s string) ([]int, error) {
	s = strings.TrimSpace(s)
	bad := func(format string, args ...any) error {
		return fmt.Errorf("--concurrency-range %q: %s", s, fmt.Sprintf(format, args...))
	}
	if strings.Contains(s, ":") {
		parts := strings.Split(s, ":")
		if len(parts) != 3 {
			return nil, bad("want start:end:xFACTOR or start:end:+STEP")
		}
		start, err1 := strconv.Atoi(parts[0])
		end, err2 := strconv.Atoi(parts[1])
		if err1 != nil || err2 != nil || start < 1 || end < start {
			return nil, bad("start and end must be whole numbers with 1 <= start <= end")
		}
		step := parts[2]
		var next func(int) int
		switch {
		case strings.HasPrefix(step, "x") || strings.HasPrefix(step, "*"):
			f, err := strconv.ParseFloat(step[1:], 64)
			if err != nil || f <= 1 {
				return nil, bad("factor %q must be a number above 1", step[1:])
			}
			next = func(c int) int { return max(c+1, int(float64(c)*f+0.5)) }
		default:
			inc, err := strconv.Atoi(strings.TrimPrefix(step, "+"))
			if err != nil || inc < 1 {
				return nil, bad("step %q must be a whole number of at least 1", step)
			}
			next = func(c int) int { return c + inc }
		}
		var levels []int
		for c := start; c <= end; c = next(c) {
			if len(levels) == maxRangeLevels {
				return nil, bad("more than %d levels", maxRangeLevels)
			}
			levels = append(levels, c)
		}
		return levels, nil
	}
	var levels []int
	for _, p := range strings.Split(s, ",") {
		c, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || c < 1 {
			return nil, bad("level %q is not a whole number of at least 1", p)
		}
		if len(levels) > 0 && c <= levels[len(levels)-1] {
			return nil, bad("levels must rise: %d after %d", c, levels[len(levels)-1])
		}
		if len(levels) == maxRangeLevels {
			return nil, bad("more than %d levels", maxRangeLevels)
		}
		levels = append(levels, c)
	}
	return levels, nil
}
