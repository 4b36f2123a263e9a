package protocol

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/inferbench/inferbench/internal/kserve"
	"github.com/inferbench/inferbench/internal/kserve/pb"
	"github.com/inferbench/inferbench/internal/transport"
	"github.com/inferbench/inferbench/internal/transport/http1"
)

// Shared-memory modes (Options.SharedMemory), as perf_analyzer's
// --shared-memory names them.
const (
	SharedMemoryNone   = "none"
	SharedMemorySystem = "system"
	SharedMemoryCUDA   = "cuda"
)

// SharedMemoryModes lists the modes the client accepts.
var SharedMemoryModes = []string{SharedMemoryNone, SharedMemorySystem}

// SHMPrefix starts the name of every shared-memory object this process
// creates: "inferbench-<pid>-".
func SHMPrefix() string { return fmt.Sprintf("inferbench-%d-", os.Getpid()) }

// CheckSharedMemory checks a shared-memory mode for a protocol kind.
func CheckSharedMemory(mode string, kind Kind) error {
	switch mode {
	case "", SharedMemoryNone:
		return nil
	case SharedMemoryCUDA:
		return errors.New("shared memory \"cuda\" needs a GPU on the server's host and is out of scope: use \"system\" or \"none\"")
	case SharedMemorySystem:
		if slices.Contains(KServeKinds, kind) {
			return nil
		}
		return fmt.Errorf("shared memory \"system\" is Triton's extension of KServe v2, not for protocol %s", kind)
	}
	return fmt.Errorf("unknown shared memory mode %q (want %s or %s)", mode, SharedMemoryNone, SharedMemorySystem)
}

// shmAlign aligns tensors in a region.
const shmAlign = 64

func alignUp(n int) int { return (n + shmAlign - 1) / shmAlign * shmAlign }

// shmRegion is one POSIX shared-memory object of ours, registered with the
// server under its name (its key is "/"+name). Its name is unlinked as
// soon as the server has mapped it: the mappings stay, and nothing is left
// in /dev/shm whatever becomes of this process.
type shmRegion struct {
	name string
	mem  []byte
}

// shmClient is an HTTP client that sends tensors through Triton's system
// shared-memory extension: Prepare writes a payload's inputs once into a
// region of their own; each Caller has a region of its own for the
// outputs, which the server writes per request; requests carry only the
// regions' names, offsets and sizes.
type shmClient struct {
	Client // kserve-http, kserve-http-json or kserve-grpc
	ctl    shmControl
	opts   Options
	prefix string

	mu      sync.Mutex
	seq     int
	regions map[string]*shmRegion // every region registered, unregistered by Close
	free    []*shmRegion          // output regions no caller holds
	outSize int                   // the size of an output region: the largest payload's outputs
	md      map[string]*kserve.ModelMetadata
	closed  bool
}

// shmControl is the extension's control calls over a client's wire.
type shmControl interface {
	registerSHM(ctx context.Context, name, key string, size int) error
	unregisterSHM(ctx context.Context, name string) error
}

// withSharedMemory wraps a client in the options' shared-memory mode.
func withSharedMemory(inner Client, opts Options) (Client, error) {
	if opts.SharedMemory != SharedMemorySystem {
		return inner, nil
	}
	ctl, ok := inner.(shmControl)
	if !ok {
		inner.Close()
		return nil, fmt.Errorf("shared memory: protocol %s has no shared-memory extension", inner.Kind())
	}
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		inner.Close()
		return nil, err
	}
	return &shmClient{Client: inner, ctl: ctl, opts: opts, prefix: SHMPrefix() + hex.EncodeToString(b[:]) + "-",
		regions: map[string]*shmRegion{}, md: map[string]*kserve.ModelMetadata{}}, nil
}

// controlContext bounds a call outside the hot path made without a context.
func (c *shmClient) controlContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), c.opts.Timeout)
}

func (c *httpClient) registerSHM(ctx context.Context, name, key string, size int) error {
	body, _ := json.Marshal(struct {
		Key      string `json:"key"`
		Offset   int    `json:"offset"`
		ByteSize int    `json:"byte_size"`
	}{key, 0, size})
	return c.post(ctx, "/v2/systemsharedmemory/region/"+url.PathEscape(name)+"/register", body)
}

func (c *httpClient) unregisterSHM(ctx context.Context, name string) error {
	return c.post(ctx, "/v2/systemsharedmemory/region/"+url.PathEscape(name)+"/unregister", nil)
}

func (c *grpcClient) registerSHM(ctx context.Context, name, key string, size int) error {
	return c.invoke(ctx, pb.GRPCInferenceService_SystemSharedMemoryRegister_FullMethodName,
		&pb.SystemSharedMemoryRegisterRequest{Name: name, Key: key, ByteSize: uint64(size)}, &pb.SystemSharedMemoryRegisterResponse{})
}

func (c *grpcClient) unregisterSHM(ctx context.Context, name string) error {
	return c.invoke(ctx, pb.GRPCInferenceService_SystemSharedMemoryUnregister_FullMethodName,
		&pb.SystemSharedMemoryUnregisterRequest{Name: name}, &pb.SystemSharedMemoryUnregisterResponse{})
}

func (c *grpcGoClient) registerSHM(ctx context.Context, name, key string, size int) error {
	return c.invoke(ctx, "SystemSharedMemoryRegister", pb.GRPCInferenceService_SystemSharedMemoryRegister_FullMethodName,
		&pb.SystemSharedMemoryRegisterRequest{Name: name, Key: key, ByteSize: uint64(size)}, &pb.SystemSharedMemoryRegisterResponse{})
}

func (c *grpcGoClient) unregisterSHM(ctx context.Context, name string) error {
	return c.invoke(ctx, "SystemSharedMemoryUnregister", pb.GRPCInferenceService_SystemSharedMemoryUnregister_FullMethodName,
		&pb.SystemSharedMemoryUnregisterRequest{Name: name}, &pb.SystemSharedMemoryUnregisterResponse{})
}

// post sends a JSON body (nil: none) and wants a 200.
func (c *httpClient) post(ctx context.Context, path string, body []byte) error {
	fields := c.fields
	if body != nil {
		fields = append(fields[:len(fields):len(fields)], transport.HeaderField{Name: "Content-Type", Value: "application/json"})
	}
	req := http1.AppendRequestHead(nil, http.MethodPost, c.basePath+path, fields, len(body))
	req = append(req, body...)
	res, err := c.exchange(ctx, http.MethodPost+" "+path, req, http.MethodPost)
	if err != nil {
		return err
	}
	if res.Status != http.StatusOK {
		return statusError(res.Status, res.Body)
	}
	return nil
}

// newRegion creates, maps and registers a region of size bytes, then
// unlinks its name.
func (c *shmClient) newRegion(ctx context.Context, kind string, size int) (*shmRegion, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, errors.New("shared memory: the client is closed")
	}
	c.seq++
	name := fmt.Sprintf("%s%s%d", c.prefix, kind, c.seq)
	c.mu.Unlock()
	mem, err := createSHM(name, size)
	if err != nil {
		return nil, err
	}
	r := &shmRegion{name: name, mem: mem}
	err = c.ctl.registerSHM(ctx, name, "/"+name, size)
	unlinkErr := unlinkSHM(name)
	if err != nil {
		unmapSHM(mem)
		var se *ServerError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("the server cannot open shared memory region %s (key /%s, %d bytes): shared memory works only with the client on the server's host: %w", name, name, size, err)
		}
		return nil, fmt.Errorf("registering shared memory region %s: %w", name, err)
	}
	c.mu.Lock()
	c.regions[name] = r
	c.mu.Unlock()
	if unlinkErr != nil {
		return nil, fmt.Errorf("removing shared memory object /%s: %w", name, unlinkErr)
	}
	return r, nil
}

// metadata returns a model's metadata, asked once.
func (c *shmClient) metadata(model, version string) (*kserve.ModelMetadata, error) {
	key := model + "\x00" + version
	c.mu.Lock()
	md := c.md[key]
	c.mu.Unlock()
	if md != nil {
		return md, nil
	}
	ctx, cancel := c.controlContext()
	defer cancel()
	md, err := c.Client.ModelMetadata(ctx, model, version)
	if err != nil {
		return nil, fmt.Errorf("shared memory: the metadata of model %q, to size its output region: %w", model, err)
	}
	c.mu.Lock()
	c.md[key] = md
	c.mu.Unlock()
	return md, nil
}

// shmOutput is where one output goes in an output region.
type shmOutput struct {
	name         string
	offset, size int
}

// shmPayload is a request whose inputs are in a region: it is encoded per
// caller, with that caller's output region.
type shmPayload struct {
	model, version string
	req            kserve.InferRequest // inputs naming the input region; outputs without regions
	outputs        []shmOutput
	outSize        int
	wire           int // the size of the request body, as encoded with an output region
}

func (p *shmPayload) Size() int { return p.wire }

// Prepare writes the inputs into a new region, registered with the
// server, and lays the outputs out in an output region's bytes, sized by
// the model's metadata (a variable first dimension is the batch: the
// first input's).
func (c *shmClient) Prepare(model, version string, req *kserve.InferRequest) (Payload, error) {
	md, err := c.metadata(model, version)
	if err != nil {
		return nil, err
	}
	size := 0
	for i := range req.Inputs {
		size = alignUp(size) + len(req.Inputs[i].Data)
	}
	ctx, cancel := c.controlContext()
	defer cancel()
	in, err := c.newRegion(ctx, "in", max(alignUp(size), shmAlign))
	if err != nil {
		return nil, err
	}
	p := &shmPayload{model: model, version: version, req: *req}
	p.req.Inputs = make([]kserve.Tensor, len(req.Inputs))
	off := 0
	for i, t := range req.Inputs {
		off = alignUp(off)
		copy(in.mem[off:], t.Data)
		t.Data = nil
		t.Parameters = maps.Clone(t.Parameters)
		t.SetSharedMemory(kserve.SharedMemoryRef{Region: in.name, Offset: int64(off), ByteSize: int64(len(req.Inputs[i].Data))})
		p.req.Inputs[i] = t
		off += len(req.Inputs[i].Data)
	}
	batch := int64(1)
	if len(req.Inputs) > 0 && len(req.Inputs[0].Shape) > 0 {
		batch = req.Inputs[0].Shape[0]
	}
	wanted := md.Outputs
	if len(req.Outputs) > 0 {
		wanted = nil
		for _, o := range req.Outputs {
			for _, m := range md.Outputs {
				if m.Name == o.Name {
					wanted = append(wanted, m)
				}
			}
		}
	}
	for _, o := range wanted {
		shape := append([]int64(nil), o.Shape...)
		for i, d := range shape {
			if d < 0 && i == 0 {
				shape[i] = batch
			} else if d < 0 {
				return nil, fmt.Errorf("shared memory: output '%s' has a variable dimension %d in shape %v: its region cannot be sized", o.Name, i, o.Shape)
			}
		}
		n, err := kserve.ByteSize(o.Datatype, shape)
		if err != nil {
			return nil, fmt.Errorf("shared memory: output '%s': %w", o.Name, err)
		}
		p.outSize = alignUp(p.outSize)
		p.outputs = append(p.outputs, shmOutput{name: o.Name, offset: p.outSize, size: int(n)})
		p.outSize += int(n)
	}
	p.outSize = max(alignUp(p.outSize), shmAlign)
	c.mu.Lock()
	c.outSize = max(c.outSize, p.outSize)
	c.mu.Unlock()
	inner, err := c.encode(p, &shmRegion{name: c.prefix + "out0"})
	if err != nil {
		return nil, err
	}
	p.wire = inner.Size()
	return p, nil
}

// encode prepares p's request with its outputs in region out.
func (c *shmClient) encode(p *shmPayload, out *shmRegion) (Payload, error) {
	r := p.req
	r.Outputs = make([]kserve.RequestedOutput, len(p.outputs))
	for i, o := range p.outputs {
		params := kserve.Parameters{}
		for _, ro := range p.req.Outputs {
			if ro.Name == o.name {
				for k, v := range ro.Parameters {
					params[k] = v
				}
			}
		}
		t := kserve.Tensor{Name: o.name, Parameters: params}
		t.SetSharedMemory(kserve.SharedMemoryRef{Region: out.name, Offset: int64(o.offset), ByteSize: int64(o.size)})
		r.Outputs[i] = kserve.RequestedOutput{Name: o.name, Parameters: t.Parameters}
	}
	return c.Client.Prepare(p.model, p.version, &r)
}

// takeOutput gives an output region of at least size bytes: a free one,
// or a new one.
func (c *shmClient) takeOutput(ctx context.Context, size int) (*shmRegion, error) {
	c.mu.Lock()
	for i, r := range c.free {
		if len(r.mem) >= size {
			c.free = append(c.free[:i], c.free[i+1:]...)
			c.mu.Unlock()
			return r, nil
		}
	}
	size = max(size, c.outSize)
	c.mu.Unlock()
	return c.newRegion(ctx, "out", size)
}

func (c *shmClient) giveOutput(r *shmRegion) {
	if r == nil {
		return
	}
	c.mu.Lock()
	c.free = append(c.free, r)
	c.mu.Unlock()
}

func shmPayloadOf(p Payload) (*shmPayload, error) {
	sp, ok := p.(*shmPayload)
	if !ok {
		return nil, fmt.Errorf("payload of type %T was not prepared by a shared-memory client", p)
	}
	return sp, nil
}

// Infer sends a request with an output region of its own and reads the
// outputs from it into the response. The first call registers as many
// output regions as the client keeps connections (the load's
// concurrency), so that workers find theirs before the clock starts.
func (c *shmClient) Infer(ctx context.Context, p Payload) (*kserve.InferResponse, error) {
	sp, err := shmPayloadOf(p)
	if err != nil {
		return nil, err
	}
	if err := c.warm(ctx); err != nil {
		return nil, err
	}
	out, err := c.takeOutput(ctx, sp.outSize)
	if err != nil {
		return nil, err
	}
	defer c.giveOutput(out)
	ip, err := c.encode(sp, out)
	if err != nil {
		return nil, err
	}
	resp, err := c.Client.Infer(ctx, ip)
	if err != nil {
		return nil, err
	}
	for i := range resp.Outputs {
		t := &resp.Outputs[i]
		if t.Data != nil {
			continue // sent in the answer after all
		}
		at := slices.IndexFunc(sp.outputs, func(o shmOutput) bool { return o.name == t.Name })
		if at < 0 {
			return nil, &MalformedResponseError{Err: fmt.Errorf("output '%s' has no data, and was not asked into shared memory", t.Name)}
		}
		o := sp.outputs[at]
		if ref, ok, err := t.SharedMemory(); err != nil || ok && (ref.Region != out.name || ref.Offset != int64(o.offset)) {
			return nil, &MalformedResponseError{Err: fmt.Errorf("output '%s' names shared memory region %q at offset %d, not the one it was asked into (%s at %d): %v", t.Name, ref.Region, ref.Offset, out.name, o.offset, err)}
		}
		n := int64(o.size)
		if t.Datatype != kserve.BYTES {
			want, err := kserve.ByteSize(t.Datatype, t.Shape)
			if err != nil || want > n {
				return nil, &MalformedResponseError{Err: fmt.Errorf("output '%s' of shape %v does not fit the %d bytes of its region", t.Name, t.Shape, n)}
			}
			n = want
		}
		t.Data = append([]byte(nil), out.mem[o.offset:o.offset+int(n)]...)
		for _, k := range []string{kserve.ParamSharedMemoryRegion, kserve.ParamSharedMemoryOffset, kserve.ParamSharedMemoryByteSize} {
			delete(t.Parameters, k)
		}
		if len(t.Parameters) == 0 {
			t.Parameters = nil
		}
		if err := t.Check(); err != nil {
			return nil, &MalformedResponseError{Err: err}
		}
	}
	return resp, nil
}

// warm registers output regions up to the client's connections, once.
func (c *shmClient) warm(ctx context.Context) error {
	c.mu.Lock()
	want := max(c.opts.MaxConns, 1) - len(c.regions) + c.inputRegions()
	c.mu.Unlock()
	for range want {
		r, err := c.newRegion(ctx, "out", c.outSizeNow())
		if err != nil {
			return err
		}
		c.giveOutput(r)
	}
	return nil
}

func (c *shmClient) outSizeNow() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return max(c.outSize, shmAlign)
}

// inputRegions counts the input regions; the caller holds mu.
func (c *shmClient) inputRegions() int {
	n := 0
	for name := range c.regions {
		if strings.HasPrefix(name[len(c.prefix):], "in") {
			n++
		}
	}
	return n
}

// shmCaller is one worker: its own output region and its requests
// encoded with it, once per payload.
type shmCaller struct {
	c       *shmClient
	inner   Caller
	out     *shmRegion
	encoded map[*shmPayload]Payload
}

func (c *shmClient) NewCaller(check *Checker) Caller {
	return &shmCaller{c: c, inner: c.Client.NewCaller(check.sharedMemory()), encoded: map[*shmPayload]Payload{}}
}

// Call sends the request with the caller's output region; the server's
// answer is checked as any other (datatype and shape of every output), the
// data being in the region.
func (sc *shmCaller) Call(ctx context.Context, p Payload) Outcome {
	sp, err := shmPayloadOf(p)
	if err != nil {
		return Outcome{Err: err}
	}
	if sc.out == nil || len(sc.out.mem) < sp.outSize {
		sc.c.giveOutput(sc.out)
		if sc.out, err = sc.c.takeOutput(ctx, sp.outSize); err != nil {
			return Outcome{Err: err}
		}
		clear(sc.encoded)
	}
	ip := sc.encoded[sp]
	if ip == nil {
		if ip, err = sc.c.encode(sp, sc.out); err != nil {
			return Outcome{Err: err}
		}
		sc.encoded[sp] = ip
	}
	return sc.inner.Call(ctx, ip)
}

func (sc *shmCaller) Close() error {
	sc.c.giveOutput(sc.out)
	sc.out = nil
	return sc.inner.Close()
}

// Close unregisters every region at the server (under a timeout of its
// own: it runs after Ctrl-C too), unmaps them and closes the connections.
func (c *shmClient) Close() error {
	c.mu.Lock()
	c.closed = true
	regions := c.regions
	c.regions = map[string]*shmRegion{}
	c.free = nil
	c.mu.Unlock()
	// One deadline for them all: a server gone does not hold Close up
	// for each region in turn.
	ctx, cancel := context.WithTimeout(context.Background(), min(c.opts.Timeout, 10*time.Second))
	defer cancel()
	var errs []error
	for name, r := range regions {
		if err := c.ctl.unregisterSHM(ctx, name); err != nil {
			errs = append(errs, fmt.Errorf("unregistering shared memory region %s: %w", name, err))
		}
		unlinkSHM(name) // unlinked already, unless registering failed half way
		if err := unmapSHM(r.mem); err != nil {
			errs = append(errs, fmt.Errorf("unmapping shared memory region %s: %w", name, err))
		}
	}
	c.Client.Close()
	return errors.Join(errs...)
}
