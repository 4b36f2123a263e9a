package measure

import (
	"sort"
	"unicode/utf8"
)

// Error classes: what kind of failure a request met.
const (
	ClassTimeout           = "timeout"
	ClassConnectionRefused = "connection_refused"
	ClassConnectionReset   = "connection_reset"
	ClassHTTPStatus        = "http_status"
	ClassGRPCStatus        = "grpc_status"
	ClassMalformed         = "malformed_response"
	ClassValidation        = "validation"
	ClassCanceled          = "canceled"
	ClassOther             = "other"
)

// ExampleLimit is how many characters of a message an error group keeps.
const ExampleLimit = 160

// ErrorGroup is the errors of one class and message.
type ErrorGroup struct {
	Class   string `json:"class"`
	Count   int64  `json:"count"`
	Example string `json:"example"`
}

type errorKey struct{ class, message string }

// ErrorTally counts errors by class and message. It is not safe for
// concurrent use: one per worker, merged.
type ErrorTally struct {
	groups map[errorKey]int64
	total  int64
}

// NewErrorTally makes an empty tally.
func NewErrorTally() *ErrorTally { return &ErrorTally{groups: map[errorKey]int64{}} }

// Add counts one error. Messages are truncated to ExampleLimit characters
// first, so that a message with a long tail still groups with its kin.
func (t *ErrorTally) Add(class, message string) {
	t.groups[errorKey{class, Truncate(message, ExampleLimit)}]++
	t.total++
}

// Merge adds another tally into t.
func (t *ErrorTally) Merge(o *ErrorTally) {
	for k, n := range o.groups {
		t.groups[k] += n
	}
	t.total += o.total
}

// Total is the number of errors counted.
func (t *ErrorTally) Total() int64 { return t.total }

// Groups lists the groups, the most frequent first (then by class and
// message, so the order is stable).
func (t *ErrorTally) Groups() []ErrorGroup {
	out := make([]ErrorGroup, 0, len(t.groups))
	for k, n := range t.groups {
		out = append(out, ErrorGroup{Class: k.class, Count: n, Example: k.message})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		if out[i].Class != out[j].Class {
			return out[i].Class < out[j].Class
		}
		return out[i].Example < out[j].Example
	})
	return out
}

// Truncate cuts s to at most limit characters, marking a cut with "...".
func Truncate(s string, limit int) string {
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	runes := []rune(s)
	return string(runes[:limit-3]) + "..."
}

// Classes are the error classes in a fixed order (ClassIndex's).
var classes = [...]string{ClassTimeout, ClassConnectionRefused, ClassConnectionReset, ClassHTTPStatus,
	ClassGRPCStatus, ClassMalformed, ClassValidation, ClassCanceled, ClassOther}

// NumClasses is the number of error classes.
const NumClasses = len(classes)

// ClassIndex is class's place in a fixed order (0..NumClasses-1), for
// counting by class in an array; an unknown class counts as ClassOther.
func ClassIndex(class string) int {
	for i, c := range classes {
		if c == class {
			return i
		}
	}
	return NumClasses - 1
}

// ClassAt is the class at index i of ClassIndex's order.
func ClassAt(i int) string { return classes[i] }
