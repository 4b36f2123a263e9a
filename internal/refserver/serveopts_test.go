package refserver

import (
	"strings"
	"testing"
	"time"
)

func TestServeOptionsResolve(t *testing.T) {
	single := SingleModel{HTTPAddr: "127.0.0.1:0", Model: "m", Emulator: KindBatcher, Instances: 4, MaxBatchSize: 8,
		ServiceTime: 10 * time.Millisecond, BatchFixed: time.Millisecond, MemoryLimit: "1GB",
		Inputs: []string{DefaultInput}, Outputs: []string{DefaultOutput}}
	c, source, err := ServeOptions{SingleModel: single, TimeScale: 2}.Resolve()
	if err != nil || source != "" || len(c.Pods) != 1 {
		t.Fatalf("single model: %v %q %+v", err, source, c)
	}
	p := c.Pods[0]
	m := p.Models[0]
	if p.MemoryLimit != 1e9 || m.Emulator.Instances != 1 || m.Emulator.BatchFixed != 2*time.Millisecond || len(m.Inputs[0].Shape) != 3 {
		t.Errorf("single model: %+v", p)
	}
	single.Set = func(flag string) bool { return flag == "instances" || flag == "input" }
	c, _, err = ServeOptions{SingleModel: single, TimeScale: 1}.Resolve()
	if err != nil || c.Pods[0].Models[0].Emulator.Instances != 4 || len(c.Pods[0].Models[0].Inputs[0].Shape) != 4 || len(c.Pods[0].Models[0].Outputs[0].Shape) != 2 {
		t.Errorf("explicit instances and input: %v %+v", err, c)
	}

	_, source, err = ServeOptions{Preset: "field-guide", TimeScale: 1}.Resolve()
	if err != nil || source != "--preset field-guide" {
		t.Errorf("preset: %v %q", err, source)
	}
	_, _, err = ServeOptions{SingleModel: single, Preset: "field-guide", TimeScale: 1}.Resolve()
	if err == nil || !strings.Contains(err.Error(), "--input declares the single model") && !strings.Contains(err.Error(), "--instances declares the single model") {
		t.Errorf("preset with single-model settings: %v", err)
	}
}

func TestSingleModelSpecIgnoresSet(t *testing.T) {
	spec, err := SingleModel{Model: "m", Emulator: KindFIFO, ServiceTime: time.Millisecond, Inputs: []string{DefaultInput}, Outputs: []string{DefaultOutput},
		Set: func(string) bool { return true }}.ModelSpec()
	if err != nil || spec.Name != "m" || len(spec.Inputs) != 1 {
		t.Errorf("%+v %v", spec, err)
	}
	if _, err := (SingleModel{Model: "m", Emulator: "nope"}).ModelSpec(); err == nil || !strings.Contains(err.Error(), `--emulator "nope"`) {
		t.Errorf("bad emulator: %v", err)
	}
}
