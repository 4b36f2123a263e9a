package measure

import (
	"cmp"
	"slices"
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
	ClassTLS               = "tls" // a TLS handshake or certificate failure
	ClassOther             = "other"
)

// ExampleLimit is how many characters of a message an error group keeps.
const ExampleLimit = 160

// TallyLimit is how many groups a tally holds at most, whatever the server
// sends: a message that would make one more is counted in its group if a
// group of it is held, else it takes the place of the oldest of the least
// frequent groups, whose errors move to their class's other messages. A
// tally costs at most about TallyLimit × 2 × ExampleLimit × 4 bytes (80 KiB).
const TallyLimit = 64

// GroupsPerClass is how many groups of one class a report lists; the rest
// are counted in one group of other messages (OtherMessages).
const GroupsPerClass = 20

// OtherMessages is the example of the group that counts a class's errors
// not listed apart.
const OtherMessages = "(other messages, not listed apart)"

// ErrorGroup is the errors of one class and message (after Normalize): its
// example is the first message seen.
type ErrorGroup struct {
	Class   string `json:"class"`
	Count   int64  `json:"count"`
	Example string `json:"example"`
}

type errorKey struct{ class, message string }

type tallyGroup struct {
	ErrorGroup
	seq int64 // when the group was made, to evict the oldest first
}

// ErrorTally counts errors by class and normalised message, in bounded
// memory (TallyLimit groups). It is not safe for concurrent use: one per
// worker, merged. The counts always add up: Total is the sum of the
// groups' counts, other messages included.
type ErrorTally struct {
	groups map[errorKey]*tallyGroup
	other  map[string]int64 // per class: errors of groups not held
	total  int64
	seq    int64
	// the last message added and its group: a server that fails every
	// request the same way costs one comparison a request
	lastClass, lastMessage string
	last                   *tallyGroup
}

// NewErrorTally makes an empty tally.
func NewErrorTally() *ErrorTally {
	return &ErrorTally{groups: map[errorKey]*tallyGroup{}, other: map[string]int64{}}
}

// Add counts one error. The message is truncated to ExampleLimit
// characters and normalised (Normalize) to find its group, so that
// messages differing in a request id, an address, a number or a long tail
// group together.
func (t *ErrorTally) Add(class, message string) {
	t.total++
	if t.last != nil && class == t.lastClass && message == t.lastMessage {
		t.last.Count++
		return
	}
	example := Truncate(message, ExampleLimit)
	t.last = t.add(class, Normalize(example), example, 1)
	t.lastClass, t.lastMessage = class, message
	if t.last == nil {
		t.lastMessage = ""
	}
}

// add counts n errors of a class and normalised message; it returns the
// group that counted them, nil if they went to the class's other messages.
func (t *ErrorTally) add(class, key, example string, n int64) *tallyGroup {
	k := errorKey{class, key}
	if g := t.groups[k]; g != nil {
		g.Count += n
		return g
	}
	if len(t.groups) >= TallyLimit {
		var least *tallyGroup
		var leastKey errorKey
		for gk, g := range t.groups {
			if least == nil || g.Count < least.Count || g.Count == least.Count && g.seq < least.seq {
				least, leastKey = g, gk
			}
		}
		if least.Count > n {
			t.other[class] += n
			return nil
		}
		t.other[least.Class] += least.Count
		delete(t.groups, leastKey)
		if least == t.last {
			t.last = nil
		}
	}
	t.seq++
	g := &tallyGroup{ErrorGroup: ErrorGroup{Class: class, Count: n, Example: example}, seq: t.seq}
	t.groups[k] = g
	return g
}

// Merge adds another tally into t: its groups, the most frequent first,
// and its other messages.
func (t *ErrorTally) Merge(o *ErrorTally) {
	keys := make([]errorKey, 0, len(o.groups))
	for k := range o.groups {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b errorKey) int {
		ga, gb := o.groups[a], o.groups[b]
		return cmp.Or(cmp.Compare(gb.Count, ga.Count), cmp.Compare(ga.seq, gb.seq))
	})
	for _, k := range keys {
		g := o.groups[k]
		t.add(k.class, k.message, g.Example, g.Count)
	}
	for class, n := range o.other {
		t.other[class] += n
	}
	t.total += o.total
	t.last = nil
}

// Total is the number of errors counted.
func (t *ErrorTally) Total() int64 { return t.total }

// Groups lists the groups, at most GroupsPerClass a class with the rest
// of the class in one group of OtherMessages (CapGroups): the most
// frequent first, other messages last. The counts add up to Total.
func (t *ErrorTally) Groups() []ErrorGroup {
	out := make([]ErrorGroup, 0, len(t.groups)+len(t.other))
	for _, g := range t.groups {
		out = append(out, g.ErrorGroup)
	}
	for class, n := range t.other {
		if n > 0 {
			out = append(out, ErrorGroup{Class: class, Count: n, Example: OtherMessages})
		}
	}
	return CapGroups(out, GroupsPerClass)
}

// CapGroups keeps at most perClass groups of each class, the most
// frequent, and counts the rest of the class, with any group of
// OtherMessages it had, in one group of OtherMessages, so that the counts
// still add up. The result is sorted: by count (the most frequent first),
// class and example, with the groups of other messages last. Reports use
// it on what a result file holds, whatever its size.
func CapGroups(groups []ErrorGroup, perClass int) []ErrorGroup {
	sorted := slices.Clone(groups)
	slices.SortStableFunc(sorted, func(a, b ErrorGroup) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Class, b.Class), cmp.Compare(a.Example, b.Example))
	})
	kept := map[string]int{}
	other := map[string]int64{}
	var classes []string // of the other groups, in the order first met
	out := sorted[:0:0]
	for _, g := range sorted {
		if g.Example != OtherMessages && kept[g.Class] < perClass {
			kept[g.Class]++
			out = append(out, g)
			continue
		}
		if _, seen := other[g.Class]; !seen {
			classes = append(classes, g.Class)
		}
		other[g.Class] += g.Count
	}
	rest := make([]ErrorGroup, 0, len(classes))
	for _, c := range classes {
		rest = append(rest, ErrorGroup{Class: c, Count: other[c], Example: OtherMessages})
	}
	slices.SortStableFunc(rest, func(a, b ErrorGroup) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Class, b.Class))
	})
	return append(out, rest...)
}

// Truncate cuts s to at most limit characters, marking a cut with "...".
// It reads no further into s than it needs.
func Truncate(s string, limit int) string {
	if len(s) <= limit {
		return s // no more characters than bytes
	}
	cut, n := 0, 0
	for i := range s {
		if n == limit-3 {
			cut = i
		}
		if n == limit {
			return s[:cut] + "..."
		}
		n++
	}
	return s
}

// Classes are the error classes in a fixed order (ClassIndex's).
var classes = [...]string{ClassTimeout, ClassConnectionRefused, ClassConnectionReset, ClassHTTPStatus,
	ClassGRPCStatus, ClassMalformed, ClassValidation, ClassCanceled, ClassTLS, ClassOther}

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
