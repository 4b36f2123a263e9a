package loaders

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/inferbench/inferbench/internal/result"
)

// Local coordinates loader processes on this machine through files in
// Dir: job.json (the Job), ready/UNIT.I (loader I waits at UNIT),
// start/UNIT (the unit's start, RFC 3339 with nanoseconds, written whole
// by a rename), heartbeat (the coordinator's last, the same format), stop
// (its word to stop, with why), and
// each loader's results in out/loader-I.json and its log in log-I.txt
// (in LogDir when set, to outlive Dir).
type Local struct {
	Dir    string
	LogDir string
	// Command makes loader i's process; its output goes to log-I.txt.
	// The usual one runs this binary: LoaderCommand.
	Command func(i int) *exec.Cmd

	mu       sync.Mutex
	procs    []*exec.Cmd
	finished map[int]error
	done     chan struct{} // closed when every loader has ended
}

// LoaderCommand is the command of loader i of the local loaders in dir:
// this same binary's hidden loader subcommand.
func LoaderCommand(exe, dir string) func(i int) *exec.Cmd {
	return func(i int) *exec.Cmd {
		return exec.Command(exe, "loader", "--dir", dir, "--index", strconv.Itoa(i))
	}
}

// ResultsPath is where loader i in dir writes its results.
func ResultsPath(dir string, i int) string {
	return filepath.Join(dir, "out", fmt.Sprintf("loader-%d.json", i))
}

// ReadJob reads the job of the local loaders in dir.
func ReadJob(dir string) (Job, error) {
	var j Job
	b, err := os.ReadFile(filepath.Join(dir, "job.json"))
	if err != nil {
		return j, err
	}
	if err := json.Unmarshal(b, &j); err != nil {
		return j, fmt.Errorf("%s: %w", filepath.Join(dir, "job.json"), err)
	}
	return j, nil
}

// writeAtomic writes a file whole, through a rename, so that a reader
// never sees half of it.
func writeAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// Publish writes the job and starts the loaders.
func (l *Local) Publish(ctx context.Context, j Job) error {
	for _, sub := range []string{"ready", "start", "out"} {
		if err := os.MkdirAll(filepath.Join(l.Dir, sub), 0o755); err != nil {
			return err
		}
	}
	b, err := json.Marshal(j)
	if err != nil {
		return err
	}
	if err := writeAtomic(filepath.Join(l.Dir, "job.json"), b); err != nil {
		return err
	}
	if err := l.Heartbeat(ctx); err != nil {
		return err
	}
	l.finished = map[int]error{}
	l.done = make(chan struct{})
	var wg sync.WaitGroup
	for i := range j.Loaders {
		cmd := l.Command(i)
		logDir := l.LogDir
		if logDir == "" {
			logDir = l.Dir
		}
		log, err := os.Create(filepath.Join(logDir, fmt.Sprintf("log-%d.txt", i)))
		if err != nil {
			return err
		}
		cmd.Stdout, cmd.Stderr = log, log
		if err := cmd.Start(); err != nil {
			log.Close()
			l.mu.Lock()
			l.finished[i] = fmt.Errorf("loader %d: start: %w", i, err)
			l.mu.Unlock()
			continue
		}
		l.mu.Lock()
		l.procs = append(l.procs, cmd)
		l.mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := cmd.Wait()
			log.Close()
			if err != nil {
				err = fmt.Errorf("loader %d (pid %d): %w; its log: %s", i, cmd.Process.Pid, err, log.Name())
			}
			l.mu.Lock()
			l.finished[i] = err
			l.mu.Unlock()
		}()
	}
	go func() { wg.Wait(); close(l.done) }()
	return nil
}

// Waiting lists ready/ for units not started.
func (l *Local) Waiting(context.Context) (map[Unit][]int, error) {
	entries, err := os.ReadDir(filepath.Join(l.Dir, "ready"))
	if err != nil {
		return nil, err
	}
	out := map[Unit][]int{}
	for _, e := range entries {
		name, idx, ok := strings.Cut(e.Name(), ".")
		if !ok {
			continue
		}
		u, err := ParseUnit(name)
		if err != nil {
			continue
		}
		i, err := strconv.Atoi(idx)
		if err != nil {
			continue
		}
		if _, err := os.Stat(filepath.Join(l.Dir, "start", name)); err == nil {
			continue
		}
		out[u] = append(out[u], i)
	}
	return out, nil
}

// Start writes start/UNIT.
func (l *Local) Start(_ context.Context, u Unit, at time.Time) error {
	return writeAtomic(filepath.Join(l.Dir, "start", u.String()), []byte(at.Format(time.RFC3339Nano)))
}

// Heartbeat writes the time to heartbeat.
func (l *Local) Heartbeat(context.Context) error {
	return writeAtomic(filepath.Join(l.Dir, "heartbeat"), []byte(time.Now().Format(time.RFC3339Nano)))
}

// Finished is the loaders whose process has ended.
func (l *Local) Finished() map[int]error {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[int]error, len(l.finished))
	for i, err := range l.finished {
		out[i] = err
	}
	return out
}

// Collect reads out/loader-I.json.
func (l *Local) Collect(_ context.Context, i int) (*result.File, error) {
	return result.Read(ResultsPath(l.Dir, i))
}

// Stop writes the stop word and interrupts the loaders still running
// (as Ctrl-C would: they save what they measured), and kills those that
// have not ended after grace and StopMargin more. Only the processes it
// started are signalled, by PID.
func (l *Local) Stop(grace time.Duration) error {
	l.mu.Lock()
	procs := append([]*exec.Cmd(nil), l.procs...)
	done := l.done
	l.mu.Unlock()
	if done == nil {
		return nil
	}
	_ = writeAtomic(filepath.Join(l.Dir, "stop"), []byte("the coordinator stopped the run"))
	for _, c := range procs {
		if c.ProcessState == nil {
			if err := c.Process.Signal(os.Interrupt); err != nil && !errors.Is(err, os.ErrProcessDone) {
				_ = c.Process.Kill() // no interrupt (Windows): kill
			}
		}
	}
	select {
	case <-done:
		return nil
	case <-time.After(grace + StopMargin):
	}
	for _, c := range procs {
		_ = c.Process.Kill()
	}
	<-done
	return errors.New("loaders killed: they did not stop within the grace period")
}

// Close kills the loaders still running (none once Stop or their end
// has been waited for); their files stay in Dir for its owner to remove.
func (l *Local) Close() error {
	l.mu.Lock()
	procs := append([]*exec.Cmd(nil), l.procs...)
	done := l.done
	l.mu.Unlock()
	if done == nil {
		return nil
	}
	select {
	case <-done:
		return nil
	default:
	}
	for _, c := range procs {
		_ = c.Process.Kill()
	}
	<-done
	return nil
}

// Wait blocks until every loader has ended.
func (l *Local) Wait() { <-l.done }

// LocalStation is a local loader's side, in the coordinator's Dir.
type LocalStation struct {
	Dir   string
	Index int
}

// Arrive writes ready/UNIT.I.
func (s LocalStation) Arrive(_ context.Context, u Unit) error {
	return os.WriteFile(filepath.Join(s.Dir, "ready", fmt.Sprintf("%s.%d", u, s.Index)), nil, 0o644)
}

// StartOf reads start/UNIT.
func (s LocalStation) StartOf(_ context.Context, u Unit) (time.Time, bool, error) {
	b, err := os.ReadFile(filepath.Join(s.Dir, "start", u.String()))
	if errors.Is(err, os.ErrNotExist) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, err
	}
	at, err := time.Parse(time.RFC3339Nano, string(b))
	if err != nil {
		return time.Time{}, false, fmt.Errorf("start of %s: %w", u, err)
	}
	return at, true, nil
}

// Told reads heartbeat and stop.
func (s LocalStation) Told(context.Context) (Word, error) {
	b, err := os.ReadFile(filepath.Join(s.Dir, "heartbeat"))
	if err != nil {
		return Word{}, err
	}
	heard, err := time.Parse(time.RFC3339Nano, string(b))
	if err != nil {
		return Word{}, fmt.Errorf("heartbeat: %w", err)
	}
	w := Word{Heard: heard}
	if b, err := os.ReadFile(filepath.Join(s.Dir, "stop")); err == nil {
		w.Stop = string(b)
		if w.Stop == "" {
			w.Stop = "the coordinator stopped the run"
		}
	}
	return w, nil
}
