package session

import (
	"fmt"
	"os"

	"github.com/inferbench/inferbench/internal/load"
)

// requestExport is the per-request export file (--export-requests): the
// session owns the file, the engine's load.RequestLog writes it.
type requestExport struct {
	path   string
	file   *os.File
	rl     *load.RequestLog
	lines  int64
	waits  int64
	closed bool
	err    error
}

// openExport creates the export file before any request is sent (nil
// without a path). It is truncated, or appended to with resume, whose
// runs add to the lines of the interrupted session.
func openExport(path string, resume bool) (*requestExport, error) {
	if path == "" {
		return nil, nil
	}
	flags := os.O_CREATE | os.O_WRONLY | os.O_TRUNC
	if resume {
		flags = os.O_CREATE | os.O_WRONLY | os.O_APPEND
	}
	f, err := os.OpenFile(path, flags, 0o644)
	if err != nil {
		return nil, fmt.Errorf("--export-requests: %w", err)
	}
	return &requestExport{path: path, file: f, rl: load.NewRequestLog(f)}, nil
}

// log is the engine's side; nil without an export.
func (e *requestExport) log() *load.RequestLog {
	if e == nil {
		return nil
	}
	return e.rl
}

// close writes out every line and closes the file, once; every run must
// have ended.
func (e *requestExport) close() error {
	if e == nil {
		return nil
	}
	if !e.closed {
		e.closed = true
		err := e.rl.Close()
		if cerr := e.file.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			e.err = fmt.Errorf("--export-requests %s: %w", e.path, err)
		}
		e.lines, e.waits = e.rl.Lines(), e.rl.Waits()
	}
	return e.err
}

// summary is the log's line about the export.
func (e *requestExport) summary() string {
	line := fmt.Sprintf("Exported %d requests to %s", e.lines, e.path)
	if e.waits > 0 {
		line += fmt.Sprintf(" (the writer fell behind: workers waited for it %d times, %d requests each)", e.waits, load.ExportBatch)
	}
	return line
}
