package result

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/measure"
	"github.com/inferbench/inferbench/internal/observe"
)

var update = flag.Bool("update", false, "rewrite schema.json from the types")

// TestSchemaFile keeps schema.json the schema of the types: go generate
// ./internal/result rewrites it.
func TestSchemaFile(t *testing.T) {
	got, err := GenerateSchema()
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(got) {
		t.Fatalf("the generated schema is not JSON:\n%s", got)
	}
	if *update {
		if err := os.WriteFile("schema.json", got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !bytes.Equal(got, JSONSchema) {
		t.Errorf("schema.json is not the types' schema: run go generate ./internal/result")
	}
}

// v2File is a result file as a bench run writes it: histograms, bounds
// and a timeline from measure's own builder.
func v2File(t *testing.T) []byte {
	t.Helper()
	start := time.Date(2026, 12, 1, 10, 0, 0, 300e6, time.UTC)
	lat, svc := measure.NewHistogram(), measure.NewHistogram()
	var b measure.TimelineBuilder
	for s := range 3 {
		h := measure.NewCoarseHistogram()
		for i := range 50 {
			d := time.Duration(5+i%7) * time.Millisecond
			lat.Record(d)
			svc.Record(d - time.Millisecond)
			h.Record(d)
		}
		b.Add(measure.Interval{Start: start.Truncate(time.Second).Add(time.Duration(s) * time.Second), DurationS: 1, Sent: 52, OK: 50,
			Errors: map[string]int64{measure.ClassTimeout: 2}, InFlight: 4, MaxSilenceMs: 100}, h)
	}
	end := start.Add(3 * time.Second)
	svcSummary := svc.Summary()
	f := New("test", start)
	f.Complete = true
	f.Environment = CurrentEnvironment()
	f.Plan = &PlanInfo{Path: "inferbench bench", Text: "deployments: []\n"}
	f.Runs = append(f.Runs, Run{
		Step:       "100/s constant",
		Deployment: Deployment{Name: "d", Protocol: "kserve-grpc", URL: "127.0.0.1:1", Model: "m"},
		Load:       Load{Mode: ModeRate, Rate: 100, Arrival: "constant", Requests: 156},
		Status:     StatusOK, Warmup: Warmup{Attempted: 10, Succeeded: 10},
		Counts: Counts{Sent: 156, OK: 150, Errors: 6}, ErrorRate: 0.0385, ThroughputRPS: 50, ElapsedS: 3,
		LatencyMs: lat.Summary(), ServiceTimeMs: &svcSummary, SendRateRPS: 52,
		Errors:     []measure.ErrorGroup{{Class: measure.ClassTimeout, Count: 6, Example: "deadline exceeded"}},
		Client:     Client{CPUPercent: 12.5, Cores: 2},
		Server:     &observe.Breakdown{QueueMs: 1, GPUUtil: -1, Source: "metrics"},
		Payload:    &Payload{RequestBytes: 100, ResponseBytes: 200},
		Started:    &start,
		Ended:      &end,
		Histograms: &Histograms{Latency: lat.MustEncode(), ServiceTime: svc.MustEncode()},
		Timeline:   b.Intervals(),
	})
	path := filepath.Join(t.TempDir(), "results.json")
	if err := Write(path, f); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// fill sets every field of v, recursively: a pointer to a filled value,
// a slice and a map of one filled element, so that every key the types
// can write is written.
func fill(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem())
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i))
			}
		}
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(v.Index(0))
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
		e := reflect.New(v.Type().Elem()).Elem()
		fill(e)
		v.SetMapIndex(reflect.ValueOf("k").Convert(v.Type().Key()), e)
	case reflect.String:
		v.SetString("s")
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(1)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(1.5)
	case reflect.Bool:
		v.SetBool(true)
	}
}

// TestSchemaFitsFiles: a v2 file as written, a file with every field set,
// one with every omitempty field left out and null where Go writes null,
// and the v1 fixtures all fit the schema.
func TestSchemaFitsFiles(t *testing.T) {
	var full File
	fill(reflect.ValueOf(&full).Elem())
	full.Schema, full.Runs[0].Status, full.Runs[0].Load.Mode = SchemaV2, StatusOK, ModeRate
	full.Runs[0].Scaling.Events[0].Kind = ScaleReady
	fullJSON, _ := json.Marshal(&full)
	var empty File
	empty.Schema = SchemaV1
	emptyJSON, _ := json.Marshal(&empty)
	if !strings.Contains(string(emptyJSON), `"runs":null`) {
		t.Fatalf("want runs null in %s", emptyJSON)
	}
	docs := map[string][]byte{"a v2 file": v2File(t), "every field": fullJSON, "no field": emptyJSON}
	for _, name := range []string{"v1-demo.json", "v1-sweep.json", "v2-stall.json"} {
		data, err := os.ReadFile(filepath.Join("..", "report", "testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		docs[name] = data
	}
	for name, data := range docs {
		if err := CheckSchema(data); err != nil {
			t.Errorf("%s does not fit the schema: %v", name, err)
		}
	}
}

// TestValidateFindsMisfits: the validator refuses what the schema does
// not allow, naming where.
func TestValidateFindsMisfits(t *testing.T) {
	good := string(v2File(t))
	for _, tt := range []struct {
		name, from, to, want string
	}{
		{"a wrong type", `"sent": 156`, `"sent": "156"`, "runs[0].counts.sent: string, want integer"},
		{"a fraction for an integer", `"sent": 156`, `"sent": 156.5`, "runs[0].counts.sent: number, want integer"},
		{"an unknown key", `"ok": 150,`, `"ok": 150, "okay": 1,`, `runs[0].counts: "okay" is not in the schema`},
		{"a required key missing", `"sent": 156,`, ``, `runs[0].counts: lacks the required "sent"`},
		{"a bad time", `"created": "2026`, `"created": "yesterday 2026`, `created: "yesterday`},
		{"a bad enum", `"status": "ok"`, `"status": "fine"`, `runs[0].status: fine is not one of`},
		{"a bad map value", `"timeout": 2`, `"timeout": "two"`, `runs[0].timeline[0].errors.timeout: string, want integer`},
		{"null where Go never writes it", `"started": "`, `"started": null, "x": "`, `runs[0].started: null, want string`},
	} {
		bad := strings.Replace(good, tt.from, tt.to, 1)
		if bad == good {
			t.Fatalf("%s: %q not in the file", tt.name, tt.from)
		}
		err := CheckSchema([]byte(bad))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
}
