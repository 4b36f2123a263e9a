package measure

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"HTTP 503: Exceeds maximum queue size", "HTTP 503: Exceeds maximum queue size"},
		{"HTTP 500: request 12345 failed", "HTTP 500: request <n> failed"},
		{"status code: 404", "status code: 404"},
		{"rpc error: code = 14 desc = x", "rpc error: code = 14 desc = x"},
		{"error 7 of 9", "error <n> of <n>"},
		{"took 1.52s, limit 30s", "took <n>s, limit <n>s"},
		{"model yolov8n output0 not found", "model yolov8n output0 not found"},
		{"trace 4bf92f3577b34da6a3ce929d0e0e4736 failed", "trace <id> failed"},
		{"trace 00000000000000000000000000001234 failed", "trace <id> failed"},
		{"request 123456789 failed", "request <id> failed"},
		{"pointer 0xc000123abc", "pointer <hex>"},
		{"word deadbeefcafe stays", "word deadbeefcafe stays"},
		{"id 123e4567-e89b-12d3-a456-426614174000 gone", "id <uuid> gone"},
		{"dial tcp 127.0.0.1:8000: connect: connection refused", "dial tcp <addr>: connect: connection refused"},
		{"read tcp 127.0.0.1:54321->10.0.0.7:8001: read: connection reset by peer", "read tcp <addr>-><addr>: read: connection reset by peer"},
		{"dial tcp [::1]:8001: connect: connection refused", "dial tcp <addr>: connect: connection refused"},
		{"host 192.168.1.20 down", "host <addr> down"},
		{"localhost:8000 refused", "localhost:<n> refused"},
		{"version 1.2.3", "version <n>.<n>"},
		{"", ""},
		{"no numbers at all", "no numbers at all"},
		{"ends with 42", "ends with <n>"},
		{"x_12 and a12 stay", "x_12 and a12 stay"},
	}
	for _, tt := range tests {
		if got := Normalize(tt.in); got != tt.want {
			t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func sumGroups(groups []ErrorGroup) int64 {
	var n int64
	for _, g := range groups {
		n += g.Count
	}
	return n
}

// TestTallyGroupsNormalisedMessages: 20,000 messages that differ only in a
// request id and an address make one group.
func TestTallyGroupsNormalisedMessages(t *testing.T) {
	tally := NewErrorTally()
	for i := range 20000 {
		tally.Add(ClassHTTPStatus, fmt.Sprintf("HTTP 500: request %d from 10.0.%d.%d:%d failed (trace %032x)", i, i/256%256, i%256, 1024+i, i*7919))
	}
	g := tally.Groups()
	if len(g) != 1 || g[0].Count != 20000 || tally.Total() != 20000 || !strings.HasPrefix(g[0].Example, "HTTP 500: request 0 from 10.0.0.0:1024") {
		t.Errorf("%d groups %+v, total %d: want one group of 20000 with the first message as example", len(g), g, tally.Total())
	}
}

// TestTallyCapsDistinctMessages: 20,000 messages nothing can normalise
// together (words, not numbers), in two classes, make at most
// GroupsPerClass groups a class and one of other messages each, and the
// counts still add up, through merges as well.
func TestTallyCapsDistinctMessages(t *testing.T) {
	word := func(i int) string { // a distinct word of letters
		var b strings.Builder
		for ; i > 0 || b.Len() == 0; i /= 26 {
			b.WriteByte(byte('a' + i%26))
		}
		return b.String()
	}
	workers := []*ErrorTally{NewErrorTally(), NewErrorTally(), NewErrorTally(), NewErrorTally()}
	frequent := 0
	for i := range 20000 {
		w := workers[i%len(workers)]
		class := ClassHTTPStatus
		if i%3 == 0 {
			class = ClassGRPCStatus
		}
		w.Add(class, "unexpected "+word(i))
		if i%10 == 0 { // one message a tenth of the time, arriving among the others
			w.Add(ClassHTTPStatus, "the frequent one")
			frequent++
		}
	}
	total := NewErrorTally()
	for _, w := range workers {
		if len(w.groups) > TallyLimit {
			t.Errorf("a worker's tally holds %d groups, limit %d", len(w.groups), TallyLimit)
		}
		total.Merge(w)
	}
	g := total.Groups()
	want := int64(20000 + frequent)
	if total.Total() != want || sumGroups(g) != want {
		t.Fatalf("total %d, groups add up to %d, want %d", total.Total(), sumGroups(g), want)
	}
	perClass := map[string]int{}
	others := 0
	for _, e := range g {
		if e.Example == OtherMessages {
			others++
			continue
		}
		perClass[e.Class]++
	}
	if len(g) > 2*(GroupsPerClass+1) || perClass[ClassHTTPStatus] > GroupsPerClass || perClass[ClassGRPCStatus] > GroupsPerClass || others != 2 {
		t.Errorf("%d groups (%v, %d other): want at most %d a class and one other each", len(g), perClass, others, GroupsPerClass)
	}
	if g[0].Example != "the frequent one" || g[0].Count != int64(frequent) {
		t.Errorf("first group %+v: want the frequent message with its %d", g[0], frequent)
	}
	if last := g[len(g)-1]; last.Example != OtherMessages {
		t.Errorf("last group %+v: want other messages", last)
	}
}

// TestTallyMemoryIsBounded: 200,000 distinct messages (all different after
// normalising) cost no more than a few hundred kilobytes held.
func TestTallyMemoryIsBounded(t *testing.T) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	tally := NewErrorTally()
	msg := []byte("unexpected reply aaaaaa from the server, and a long tail to make it long: " + strings.Repeat("z", 200))
	for i := range 200_000 {
		for j, k := 17, i; j < 23; j, k = j+1, k/26 {
			msg[j] = byte('a' + k%26)
		}
		tally.Add(ClassOther, string(msg))
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if len(tally.groups) > TallyLimit || tally.Total() != 200_000 || sumGroups(tally.Groups()) != 200_000 {
		t.Errorf("%d groups, total %d", len(tally.groups), tally.Total())
	}
	held := int64(after.HeapInuse) - int64(before.HeapInuse)
	t.Logf("a tally of 200,000 distinct messages holds %d bytes of heap", held)
	if held > 4<<20 {
		t.Errorf("a tally of 200,000 distinct messages holds %d bytes, want under 4 MiB", held)
	}
	runtime.KeepAlive(tally)
}

func TestCapGroups(t *testing.T) {
	in := []ErrorGroup{
		{Class: "a", Count: 1, Example: "a1"}, {Class: "a", Count: 5, Example: "a5"}, {Class: "a", Count: 3, Example: "a3"},
		{Class: "a", Count: 2, Example: OtherMessages}, {Class: "b", Count: 4, Example: "b4"}, {Class: "b", Count: 1, Example: "b1"},
	}
	tests := []struct {
		perClass int
		want     []ErrorGroup
	}{
		{10, []ErrorGroup{{"a", 5, "a5"}, {"b", 4, "b4"}, {"a", 3, "a3"}, {"a", 1, "a1"}, {"b", 1, "b1"}, {"a", 2, OtherMessages}}},
		{2, []ErrorGroup{{"a", 5, "a5"}, {"b", 4, "b4"}, {"a", 3, "a3"}, {"b", 1, "b1"}, {"a", 3, OtherMessages}}},
		{1, []ErrorGroup{{"a", 5, "a5"}, {"b", 4, "b4"}, {"a", 6, OtherMessages}, {"b", 1, OtherMessages}}},
	}
	for _, tt := range tests {
		got := CapGroups(in, tt.perClass)
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("CapGroups(%d) = %v, want %v", tt.perClass, got, tt.want)
		}
		if sumGroups(got) != sumGroups(in) {
			t.Errorf("CapGroups(%d) adds up to %d, want %d", tt.perClass, sumGroups(got), sumGroups(in))
		}
	}
}
