package load

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/inferbench/inferbench/internal/protocol"
)

// ExportBatch is how many requests a worker notes before it hands them to
// the writer: the hot path fills a slot of a batch it owns, and meets the
// writer (a channel send) once every ExportBatch requests.
const ExportBatch = 256

// exportQueue is how many full batches may wait for the writer (about
// 16k requests, 1 MB): a worker blocks only when the writer is that far
// behind, and then waits for it rather than drop lines.
const exportQueue = 64

// RequestLog writes one JSON line per measured request (the per-request
// export, --export-requests): workers note each request in a batch of
// their own, full batches go over a channel to one writer goroutine that
// encodes them into a buffered writer, and empty batches come back
// through a pool. Warmup requests are not noted. It is safe for the
// concurrent runs of several engines; Close, after the last run, writes
// everything out.
type RequestLog struct {
	batches chan *exportBatch
	free    sync.Pool
	done    chan struct{}
	out     *bufio.Writer

	// Waits counts the hand-overs that found the queue full and waited
	// for the writer.
	waits atomic.Int64
	// lines and err are the writer's; read after done is closed.
	lines int64
	err   error
	once  sync.Once
}

// ExportLabel says which run a request belongs to in the export; the load
// level (concurrency or rate) is taken from the Config.
type ExportLabel struct {
	Deployment, Step string
}

// NewRequestLog starts the writer on w; Close stops it.
func NewRequestLog(w io.Writer) *RequestLog {
	l := &RequestLog{batches: make(chan *exportBatch, exportQueue), done: make(chan struct{}), out: bufio.NewWriterSize(w, 256<<10)}
	l.free.New = func() any { return new(exportBatch) }
	go l.write()
	return l
}

// Close writes out every request noted (every run must have ended) and
// returns the first write error.
func (l *RequestLog) Close() error {
	l.once.Do(func() {
		close(l.batches)
		<-l.done
		if err := l.out.Flush(); err != nil && l.err == nil {
			l.err = err
		}
	})
	return l.err
}

// Lines is the number of lines written; valid after Close.
func (l *RequestLog) Lines() int64 { return l.lines }

// Waits is how many times a worker waited for the writer (the queue of
// full batches was full); valid after Close.
func (l *RequestLog) Waits() int64 { return l.waits.Load() }

// exportEntry is one request, as noted on the hot path: plain values,
// its error classified by the writer.
type exportEntry struct {
	intended, actual    int64 // Unix nanoseconds; intended 0 in closed loop
	latency, service    time.Duration
	err                 error
	reqBytes, respBytes int64
}

type exportBatch struct {
	run     *exportRun
	n       int
	entries [ExportBatch]exportEntry
}

// exportRun is a run's labels, encoded once: the opening of every line.
type exportRun struct {
	prefix []byte
	open   bool // open loop: intended times and service times are written
}

// recorder is one worker's side of the log.
type recorder struct {
	log *RequestLog
	run *exportRun
	b   *exportBatch
}

// recorder makes a worker's recorder for a measured phase of cfg.
func (l *RequestLog) recorder(cfg *Config) *recorder {
	label := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	prefix := fmt.Sprintf(`{"deployment":%s,"step":%s,`, label(cfg.ExportLabel.Deployment), label(cfg.ExportLabel.Step))
	if cfg.Rate > 0 {
		prefix += `"rate":` + strconv.FormatFloat(cfg.Rate, 'g', -1, 64) + ","
	} else {
		prefix += `"concurrency":` + strconv.Itoa(cfg.Concurrency) + ","
	}
	return &recorder{log: l, run: &exportRun{prefix: []byte(prefix), open: cfg.Rate > 0}}
}

// add notes a request: its intended send time (zero in closed loop), its
// actual send, its latency (from the intended time in open loop) and
// service time (from the actual send; open loop only), its outcome.
func (r *recorder) add(intended, actual time.Time, latency, service time.Duration, out protocol.Outcome) {
	b := r.b
	if b == nil {
		b = r.log.free.Get().(*exportBatch)
		b.run, b.n = r.run, 0
		r.b = b
	}
	e := &b.entries[b.n]
	e.intended = 0
	if !intended.IsZero() {
		e.intended = intended.UnixNano()
	}
	e.actual = actual.UnixNano()
	e.latency, e.service, e.err = latency, service, out.Err
	e.reqBytes, e.respBytes = int64(out.RequestBytes), int64(out.ResponseBytes)
	b.n++
	if b.n == ExportBatch {
		r.log.hand(b)
		r.b = nil
	}
}

// flush hands over a partly filled batch at the end of a phase; nil-safe.
func (r *recorder) flush() {
	if r == nil || r.b == nil {
		return
	}
	r.log.hand(r.b)
	r.b = nil
}

// hand gives a batch to the writer, waiting if it is far behind.
func (l *RequestLog) hand(b *exportBatch) {
	select {
	case l.batches <- b:
	default:
		l.waits.Add(1)
		l.batches <- b
	}
}

// write is the writer goroutine: it encodes the batches in the order they
// come. After a write error it keeps taking batches (so no worker blocks)
// but writes no more.
func (l *RequestLog) write() {
	defer close(l.done)
	var line []byte
	for b := range l.batches {
		for i := range b.entries[:b.n] {
			if l.err != nil {
				break
			}
			line = appendLine(line[:0], b.run, &b.entries[i])
			if _, err := l.out.Write(line); err != nil {
				l.err = fmt.Errorf("writing the request export: %w", err)
				break
			}
			l.lines++
		}
		clear(b.entries[:b.n]) // drop the errors' references
		b.run, b.n = nil, 0
		l.free.Put(b)
	}
}

// appendLine encodes one request; docs/results.md describes the line.
func appendLine(buf []byte, run *exportRun, e *exportEntry) []byte {
	buf = append(buf, run.prefix...)
	if run.open && e.intended != 0 {
		buf = append(buf, `"intended":"`...)
		buf = time.Unix(0, e.intended).UTC().AppendFormat(buf, time.RFC3339Nano)
		buf = append(buf, `",`...)
	}
	buf = append(buf, `"sent":"`...)
	buf = time.Unix(0, e.actual).UTC().AppendFormat(buf, time.RFC3339Nano)
	buf = append(buf, `","latency_ms":`...)
	buf = appendMs(buf, e.latency)
	if run.open {
		buf = append(buf, `,"service_time_ms":`...)
		buf = appendMs(buf, e.service)
	}
	if e.err == nil {
		buf = append(buf, `,"status":"ok"`...)
	} else {
		class, msg := protocol.Classify(e.err)
		buf = append(buf, `,"status":"error","error_class":`...)
		buf = strconv.AppendQuote(buf, class)
		m, _ := json.Marshal(msg)
		buf = append(buf, `,"error":`...)
		buf = append(buf, m...)
	}
	buf = append(buf, `,"request_bytes":`...)
	buf = strconv.AppendInt(buf, e.reqBytes, 10)
	buf = append(buf, `,"response_bytes":`...)
	buf = strconv.AppendInt(buf, e.respBytes, 10)
	return append(buf, "}\n"...)
}

// appendMs writes a duration in milliseconds to the microsecond.
func appendMs(buf []byte, d time.Duration) []byte {
	return strconv.AppendFloat(buf, float64(d.Microseconds())/1000, 'f', -1, 64)
}
