package load

import (
	"errors"
	"io"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/protocol"
)

// BenchmarkRecorderAdd is the export's cost on the hot path: noting one
// request (the writer encodes it on its own goroutine).
func BenchmarkRecorderAdd(b *testing.B) {
	log := NewRequestLog(io.Discard)
	r := log.recorder(&Config{Concurrency: 4, ExportLabel: ExportLabel{Deployment: "d", Step: "s"}})
	out := protocol.Outcome{RequestBytes: 100, ResponseBytes: 200}
	now := time.Now()
	b.ReportAllocs()
	for range b.N {
		r.add(time.Time{}, now, time.Millisecond, 0, out)
	}
	r.flush()
	if err := log.Close(); err != nil {
		b.Fatal(err)
	}
}

// TestAppendLine pins the line format docs/results.md describes.
func TestAppendLine(t *testing.T) {
	sent := time.Date(2025, 3, 1, 12, 0, 0, 123456789, time.UTC)
	open := &exportRun{prefix: []byte(`{"deployment":"d","step":"s","rate":250.5,`), open: true}
	closed := &exportRun{prefix: []byte(`{"deployment":"d","step":"s","concurrency":8,`)}
	tests := []struct {
		run  *exportRun
		e    exportEntry
		want string
	}{
		{closed, exportEntry{actual: sent.UnixNano(), latency: 12345678 * time.Nanosecond, reqBytes: 100, respBytes: 2000},
			`{"deployment":"d","step":"s","concurrency":8,"sent":"2025-03-01T12:00:00.123456789Z","latency_ms":12.345,"status":"ok","request_bytes":100,"response_bytes":2000}`},
		{open, exportEntry{intended: sent.Add(-time.Millisecond).UnixNano(), actual: sent.UnixNano(), latency: 3 * time.Millisecond, service: 2 * time.Millisecond,
			err: errors.New(`refused "now"`), reqBytes: 100},
			`{"deployment":"d","step":"s","rate":250.5,"intended":"2025-03-01T12:00:00.122456789Z","sent":"2025-03-01T12:00:00.123456789Z","latency_ms":3,"service_time_ms":2,"status":"error","error_class":"other","error":"refused \"now\"","request_bytes":100,"response_bytes":0}`},
	}
	for _, tt := range tests {
		if got := string(appendLine(nil, tt.run, &tt.e)); got != tt.want+"\n" {
			t.Errorf("line\n got %s\nwant %s", got, tt.want)
		}
	}
}
