// Package result is the result file, inferbench.result/v2 (v1 files are
// read too): its types, an atomic write that never leaves a half-written
// file, and reading it back. Every report is rendered from it. Fields may
// be added; none are renamed or removed without a new schema version.
// docs/results.md describes every field.
package result

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/inferbench/inferbench/internal/measure"
	"github.com/inferbench/inferbench/internal/observe"
)

// Schema is the schema name this package writes; Read reads it and
// SchemaV1.
const Schema = SchemaV2

// Schema versions. v2 adds to v1 each run's histograms, the wall-clock
// bounds of its measured phase and its timeline; nothing was renamed or
// removed, so a v1 file reads into the same types with those left empty.
const (
	SchemaV1 = "inferbench.result/v1"
	SchemaV2 = "inferbench.result/v2"
)

// File is one result file.
type File struct {
	Schema      string       `json:"schema"`
	Tool        Tool         `json:"tool"`
	Created     time.Time    `json:"created"`
	Complete    bool         `json:"complete"` // false when the run was interrupted
	Environment *Environment `json:"environment,omitempty"`
	Plan        *PlanInfo    `json:"plan,omitempty"`
	Runs        []Run        `json:"runs"`
	// OutputCheck compares the deployments' answers for the same images
	// (--check-outputs); nil when they were not compared.
	OutputCheck *OutputCheck `json:"output_check,omitempty"`
	// Searches are the sweet-spot searches of `inferbench sweep`, one per
	// deployment; their levels are runs above.
	Searches []Search `json:"searches,omitempty"`
	// Thresholds are the pass/fail criteria the session was given (a
	// plan's thresholds, --threshold), each with a copy of its results
	// for readers of the JSON: reports evaluate them again (analyze).
	Thresholds []Threshold `json:"thresholds,omitempty"`
}

// Threshold is one criterion as given, and a copy of its verdicts.
type Threshold struct {
	// Expr is the expression, as written: "p99 < 50ms", "valid".
	Expr string `json:"expr"`
	// Deployment and Step, when set, limit it to that deployment's or
	// that step's runs.
	Deployment string `json:"deployment,omitempty"`
	Step       string `json:"step,omitempty"`
	// Results are analyze's verdicts, one per step and deployment it
	// applies to (its trials together): a copy, as Assessment.
	Results []ThresholdResult `json:"results,omitempty"`
}

// ThresholdResult is a threshold's verdict on one step of one deployment.
type ThresholdResult struct {
	Deployment string `json:"deployment"`
	Step       string `json:"step,omitempty"`
	Load       string `json:"load"`
	Trials     int    `json:"trials,omitempty"`
	// Value is what was measured (the trials' median), in Unit: ms,
	// req/s, % (errors), x (times the baseline), or none (valid).
	Value float64 `json:"value"`
	Unit  string  `json:"unit,omitempty"`
	Pass  bool    `json:"pass"`
	// IntervalBound is the 95% interval's bound on the threshold's side
	// (the upper for "<"), when there is an interval, and IntervalPass
	// whether it passes too.
	IntervalBound *float64 `json:"interval_bound,omitempty"`
	IntervalPass  *bool    `json:"interval_pass,omitempty"`
	// Detail is the verdict in words.
	Detail string `json:"detail"`
}

// Environment is the machine the client ran on.
type Environment struct {
	Hostname  string `json:"hostname"`
	OS        string `json:"os"`
	Arch      string `json:"arch"`
	CPUs      int    `json:"cpus"`
	GoVersion string `json:"go_version"`
	// Clock is this machine's clock against a reference the loaders of a
	// split run share (the Kubernetes API server's); nil when not measured.
	Clock *Clock `json:"clock,omitempty"`
}

// Clock is a clock's offset from a reference, as clock.Offset measured
// it: the true offset lies within OffsetMs ± UncertaintyMs.
type Clock struct {
	// Against names the reference, e.g. "the API server's Date header".
	Against       string  `json:"against"`
	OffsetMs      float64 `json:"offset_ms"` // local minus reference: positive when the local clock is ahead
	UncertaintyMs float64 `json:"uncertainty_ms"`
	Probes        int     `json:"probes"`
}

// PlanInfo records the plan a run followed, as written.
type PlanInfo struct {
	Path  string `json:"path"`
	Text  string `json:"text"`
	Quick bool   `json:"quick,omitempty"`
}

// Tool identifies what wrote the file.
type Tool struct {
	Version string `json:"version"`
}

// Run statuses.
const (
	StatusOK          = "ok"          // measured
	StatusFailed      = "failed"      // could not be measured: see Failure
	StatusInterrupted = "interrupted" // cut short by Ctrl-C: what was measured is kept
)

// Run is one load level against one deployment.
type Run struct {
	Step string `json:"step,omitempty"` // the plan step this run belongs to
	// Trial numbers a run among the repeated trials of its step against
	// its deployment (--repeat), from 1; 0 (left out) when the step ran
	// once.
	Trial         int             `json:"trial,omitempty"`
	Deployment    Deployment      `json:"deployment"`
	Load          Load            `json:"load"`
	Status        string          `json:"status"`
	Failure       string          `json:"failure,omitempty"` // why a failed run failed
	Warmup        Warmup          `json:"warmup"`
	Counts        Counts          `json:"counts"`
	ErrorRate     float64         `json:"error_rate"`     // errors / sent, 0..1
	ThroughputRPS float64         `json:"throughput_rps"` // successful responses per second of the measured phase
	ElapsedS      float64         `json:"elapsed_s"`
	LatencyMs     measure.Latency `json:"latency_ms"` // successes only; in rate mode from the intended send time
	// ServiceTimeMs is, in rate mode, the latency of the successes from
	// their actual send; LatencyMs minus it is time spent waiting to be sent.
	ServiceTimeMs *measure.Latency `json:"service_time_ms,omitempty"`
	// SendRateRPS is the achieved send rate in rate mode.
	SendRateRPS float64              `json:"send_rate_rps,omitempty"`
	Errors      []measure.ErrorGroup `json:"errors"`
	// Assessment is a copy of analyze's judgement of the run, kept for
	// readers of the JSON; reports recompute it from the measurements and
	// Facts (analyze.Judge) and never read it.
	Assessment Assessment `json:"assessment"`
	Client     Client     `json:"client"`
	// Server is what the server's metrics or statistics say about the
	// step, per request on average; nil when they could not be read.
	Server *observe.Breakdown `json:"server,omitempty"`
	// Stability is set on a level measured in windows (a sweep's).
	Stability *Stability `json:"stability,omitempty"`
	// Validity says whether the numbers may be trusted: a server that
	// restarted during the step, for one, makes them invalid. Like
	// Assessment, a copy of analyze's judgement.
	Validity *Validity `json:"validity,omitempty"`
	// Facts are what the run saw that no rule can recompute from the rest
	// of the file (see Facts). nil in files written before they were kept
	// apart: theirs are among the assessment's notes and the validity's
	// reasons, and analyze sets them apart when it reads them.
	Facts *Facts `json:"facts,omitempty"`
	// Pods is what Kubernetes said about the deployment's pods over the
	// step; nil when pod checks were off.
	Pods *Pods `json:"pods,omitempty"`
	// Scaling is how the deployment scaled during the step; nil when no
	// scale source was observed.
	Scaling *Scaling `json:"scaling,omitempty"`
	// Payload is what a request and its answer weighed on the wire, on
	// average over the measured phase.
	Payload *Payload `json:"payload,omitempty"`

	// Started and Ended are the wall-clock bounds of the measured phase
	// (v2; nil in v1 files and for runs that measured nothing).
	Started *time.Time `json:"started,omitempty"`
	Ended   *time.Time `json:"ended,omitempty"`
	// Histograms are the run's whole distributions (v2; nil in v1 files).
	Histograms *Histograms `json:"histograms,omitempty"`
	// Timeline is what happened in each second of the measured phase (v2).
	Timeline []measure.Interval `json:"timeline,omitempty"`
}

// Histograms are a run's latency distributions in HdrHistogram's
// standard V2 compressed encoding, base64 (measure.DecodeHistogram reads
// them; so do HdrHistogram's own tools): values in microseconds from 1 µs
// to 1 h at 3 significant digits. LatencyMs and ServiceTimeMs are
// summaries of these very histograms, so any percentile recomputed from
// them agrees with the stored ones.
type Histograms struct {
	Latency string `json:"latency"`
	// ServiceTime is, in rate mode, the latency from the actual send.
	ServiceTime string `json:"service_time,omitempty"`
}

// Facts are what a run saw and the file holds nowhere else, one line
// each, recorded as they were seen and never recomputed: the server's
// metrics that could not be read, a server that restarted (its counters
// went back between samples the file does not keep), a sweep's memory
// check with its inputs, a pod check that failed, the OOM risk estimated
// from the pods' memory over the steps so far.
type Facts struct {
	Notes []string `json:"notes,omitempty"`
	// Invalid are the facts that make the numbers untrustworthy.
	Invalid []string `json:"invalid,omitempty"`
}

// Note records a fact about the run.
func (r *Run) Note(fact string) {
	if r.Facts == nil {
		r.Facts = &Facts{}
	}
	r.Facts.Notes = append(r.Facts.Notes, fact)
}

// Invalidate records a fact that makes the run's numbers untrustworthy.
func (r *Run) Invalidate(reason string) {
	if r.Facts == nil {
		r.Facts = &Facts{}
	}
	r.Facts.Invalid = append(r.Facts.Invalid, reason)
}

// Validity is a run's verdict on its own numbers, as MLPerf's
// VALID/INVALID.
type Validity struct {
	Valid   bool     `json:"valid"`
	Reasons []string `json:"reasons"`
}

// Deployment is what was measured.
type Deployment struct {
	Name         string `json:"name"`
	Protocol     string `json:"protocol"`
	URL          string `json:"url"`
	Model        string `json:"model"`
	ModelVersion string `json:"model_version"`
}

// Load modes.
const (
	ModeConcurrency = "concurrency"
	ModeRate        = "rate"
)

// Load is the load level and size of a run.
type Load struct {
	Mode        string  `json:"mode"`
	Concurrency int     `json:"concurrency"`
	Rate        float64 `json:"rate"`
	Arrival     string  `json:"arrival"`
	Requests    int     `json:"requests"`
	DurationS   float64 `json:"duration_s"`
	// Stages, when set, changed the load over the run: in rate mode the
	// rate went from StagesFrom through each stage's target (Rate is then
	// the stages' mean rate), in concurrency mode the active workers did
	// (Concurrency is then the highest target). The per-second timeline
	// shows the ramp.
	Stages     []Stage  `json:"stages,omitempty"`
	StagesFrom *float64 `json:"stages_from,omitempty"`
	// Schedule, when set, is the trace the run replayed (Arrival
	// "schedule", Rate its mean rate).
	Schedule *Schedule `json:"schedule,omitempty"`
	// Burst, when set, shaped bursty arrivals (Arrival "bursty", Rate
	// their mean rate, size / idle).
	Burst *Burst `json:"burst,omitempty"`
}

// Stage is one stage of a load: over DurationS the target went linearly
// from the previous one to Target (Ramp), or held it.
type Stage struct {
	DurationS float64 `json:"duration_s"`
	Target    float64 `json:"target"`
	Ramp      bool    `json:"ramp"`
}

// Schedule is a replayed trace: its file as given, its format, how many
// sends one pass holds, the speed factor and whether it looped.
type Schedule struct {
	File   string  `json:"file"`
	Format string  `json:"format"`
	Sends  int     `json:"sends"`
	Speed  float64 `json:"speed"`
	Loop   bool    `json:"loop"`
}

// Burst shapes bursty arrivals: Size requests back to back, the bursts
// separated by exponential gaps of mean IdleS seconds.
type Burst struct {
	Size  int     `json:"size"`
	IdleS float64 `json:"idle_s"`
}

// Warmup is how the warmup went; its requests never enter the statistics.
type Warmup struct {
	Attempted int                  `json:"attempted"`
	Succeeded int                  `json:"succeeded"`
	Errors    []measure.ErrorGroup `json:"errors,omitempty"`
}

// Counts are the measured requests.
type Counts struct {
	Sent   int64 `json:"sent"`
	OK     int64 `json:"ok"`
	Errors int64 `json:"errors"`
	// Dropped are, in rate mode for a duration, the requests due before
	// its end that could not be sent by then: neither sent nor errors.
	Dropped int64 `json:"dropped,omitempty"`
}

// Assessment is the field guide's judgement of a run: a copy of
// analyze.Judge's, whose notes are its own followed by the facts' notes.
type Assessment struct {
	ErrorBand            string  `json:"error_band"`
	LatencyVsBaselineP50 float64 `json:"latency_vs_baseline_p50"`
	LatencyVsBaselineP99 float64 `json:"latency_vs_baseline_p99"`
	// Check is the field guide's check for the level (realistic: errors
	// under 5% and p50 under 2x the baseline; heavy: 10% and 3x), if any.
	Check string   `json:"check,omitempty"`
	Notes []string `json:"notes"`
}

// Client is what the load generator itself cost, and whether it probably
// limited the result.
type Client struct {
	CPUPercent float64 `json:"cpu_percent"` // of one core, over the measured phase
	LateSends  int64   `json:"late_sends"`
	Cores      int     `json:"cores,omitempty"` // cores the machine has
	// Limited and Warning are analyze's judgement (a copy, as Assessment):
	// the client, not the server, probably set the numbers, and why.
	Limited bool   `json:"limited,omitempty"`
	Warning string `json:"warning,omitempty"`
	// PreprocessMs is the client's preprocessing per request (decoding,
	// letterboxing and encoding the image), measured apart from the
	// latency with --preprocess-per-request; nil otherwise.
	PreprocessMs *measure.Latency `json:"preprocess_ms,omitempty"`
}

// New makes an empty, incomplete file.
func New(version string, now time.Time) *File {
	return &File{Schema: Schema, Tool: Tool{Version: version}, Created: now.UTC().Truncate(time.Second), Runs: []Run{}}
}

// CurrentEnvironment describes this machine.
func CurrentEnvironment() *Environment {
	host, _ := os.Hostname()
	return &Environment{Hostname: host, OS: runtime.GOOS, Arch: runtime.GOARCH, CPUs: runtime.NumCPU(), GoVersion: runtime.Version()}
}

// Write writes the file atomically: to a temporary file in the same
// folder, synced, then renamed over path, so a crash leaves either the old
// file or the new one. A symbolic link at path is followed (the file it
// names is replaced, the link stays); a path that is not a writable
// regular file is refused (WritableTarget).
func Write(path string, f *File) error {
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding results: %w", err)
	}
	data = append(data, '\n')
	path, old, err := WritableTarget(path)
	if err != nil {
		return fmt.Errorf("writing results: %w", err)
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("writing results: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if old != nil {
		tmp.Chmod(old.Mode().Perm()) // the file keeps its permissions
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing results to %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("writing results to %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing results to %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing results: %w", err)
	}
	return nil
}

// Read reads a result file and checks its schema.
func Read(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f File
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("%s: not a result file: %w", path, err)
	}
	if f.Schema != SchemaV1 && f.Schema != SchemaV2 {
		return nil, fmt.Errorf("%s: schema %q, want %q or %q", path, f.Schema, SchemaV2, SchemaV1)
	}
	if err := Validate(&f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &f, nil
}
