package inputs

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inferbench/inferbench/internal/kserve"
)

func TestResolve(t *testing.T) {
	meta := []kserve.TensorMetadata{
		{Name: "images", Datatype: kserve.FP32, Shape: []int64{-1, 3, -1, -1}},
		{Name: "scale", Datatype: kserve.FP32, Shape: []int64{-1, 1}},
	}
	tests := []struct {
		name   string
		shapes map[string][]int64
		batch  int
		want   string // shapes, or "error: ..."
	}{
		{"variable dims need a shape", nil, 1, "error: --shape images:1,3,1,1"},
		{"given shape", map[string][]int64{"images": {2, 3, 640, 640}}, 4, "[[2 3 640 640] [4 1]]"},
		{"fixed dim differs", map[string][]int64{"images": {1, 4, 640, 640}}, 1, "error: fixed at 3"},
		{"rank differs", map[string][]int64{"images": {3, 640, 640}}, 1, "error: has 4 dimensions"},
		{"zero dim", map[string][]int64{"images": {1, 3, 0, 640}}, 1, "error: at least 1"},
		{"unknown name", map[string][]int64{"images": {1, 3, 8, 8}, "nope": {1}}, 1, "error: does not have: nope"},
	}
	for _, tt := range tests {
		got, err := Resolve(meta, tt.shapes, tt.batch)
		if strings.HasPrefix(tt.want, "error: ") {
			if err == nil || !strings.Contains(err.Error(), strings.TrimPrefix(tt.want, "error: ")) {
				t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		shapes := [][]int64{got[0].Shape, got[1].Shape}
		if fmt.Sprint(shapes) != tt.want {
			t.Errorf("%s: shapes %v, want %s", tt.name, shapes, tt.want)
		}
	}
}

func TestRandomIsDeterministicAndValid(t *testing.T) {
	var meta []kserve.TensorMetadata
	for _, dt := range kserve.DataTypes {
		meta = append(meta, kserve.TensorMetadata{Name: string(dt), Datatype: dt, Shape: []int64{2, 3}})
	}
	a, err := Random(meta, 9)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Random(meta, 9)
	c, _ := Random(meta, 10)
	if kserve.Fingerprint(a) != kserve.Fingerprint(b) || kserve.Fingerprint(a) == kserve.Fingerprint(c) {
		t.Errorf("the same seed must give the same data, another seed other data")
	}
	for i := range a {
		if err := a[i].Check(); err != nil {
			t.Errorf("%s: %v", a[i].Name, err)
		}
	}
}

func TestFromPerfAnalyzerFile(t *testing.T) {
	meta := []kserve.TensorMetadata{
		{Name: "INPUT0", Datatype: kserve.INT32, Shape: []int64{1, 4}},
		{Name: "INPUT1", Datatype: kserve.FP32, Shape: []int64{2, 2}},
	}
	dir := t.TempDir()
	write := func(content string) string {
		p := filepath.Join(dir, fmt.Sprintf("f%d.json", len(content)))
		os.WriteFile(p, []byte(content), 0o644)
		return p
	}
	good := write(`{"data": [
	  {"INPUT0": [1, 2, 3, 4], "INPUT1": {"content": [[1.5, 2], [3, 4]], "shape": [2, 2]}},
	  {"INPUT0": {"b64": "AQAAAAIAAAADAAAABAAAAA=="}, "INPUT1": [0, 0, 0, 1]}
	]}`)
	samples, err := FromPerfAnalyzerFile(good, meta)
	if err != nil {
		t.Fatal(err)
	}
	if len(samples) != 2 || kserve.Float64At(kserve.FP32, samples[0][1].Data, 0) != 1.5 || kserve.Float64At(kserve.INT32, samples[1][0].Data, 3) != 4 {
		t.Errorf("samples %+v", samples)
	}
	for content, want := range map[string]string{
		`{"data": []}`:                                                     "holds no sample",
		`{"data": [{"INPUT0": [1,2,3,4]}]}`:                                "data[0] has no value for input 'INPUT1'",
		`{"data": [{"INPUT0": [1,2,3], "INPUT1": [1,2,3,4]}]}`:             "data[0] input 'INPUT0'",
		`{"data": [{"INPUT0": [1,2,3,4], "INPUT1": [1,2,3,4], "X": [1]}]}`: "'X', which the model does not have",
		`{"data": [{"INPUT0": {"b64": "!!"}, "INPUT1": [1,2,3,4]}]}`:       "b64",
		`{"data": [{"INPUT0": {"nothing": 1}, "INPUT1": [1,2,3,4]}]}`:      "want an array",
		`{"data": `: "not perf_analyzer input data",
	} {
		p := write(content)
		_, err := FromPerfAnalyzerFile(p, meta)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: err = %v, want the file and %q", content, err, want)
		}
	}
}
