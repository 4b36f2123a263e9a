package refserver

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"sync"

	"github.com/inferbench/inferbench/internal/kserve"
)

// Triton's system shared-memory extension: a client registers a POSIX
// shared-memory object (its key, "/name") as a named region; an input
// whose parameters name a region is read from it, and an output whose
// requested parameters name one is written into it, its data left out
// of the answer. The messages are Triton's (shared_memory_manager.cc,
// infer_request.cc).

// shmRegion is one registered region, mapped into the server.
type shmRegion struct {
	name, key    string
	offset, size int64
	mem          []byte // the mapping: size bytes from offset
	unmap        func() error
}

// shmRegistry is the server's registered regions. Requests that use them
// hold mu for reading from the first read of an input to the last write of
// an output, so that an unregister never unmaps memory in use.
type shmRegistry struct {
	mu      sync.RWMutex
	regions map[string]*shmRegion
}

func (r *shmRegistry) register(name, key string, offset, size int64) error {
	if name == "" {
		return kserve.Errorf(kserve.CodeInvalidArg, "failed to register shared memory region: no name")
	}
	if offset < 0 || size <= 0 {
		return kserve.Errorf(kserve.CodeInvalidArg, "failed to register shared memory region '%s': offset must be non-negative and byte_size positive", name)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.regions[name]; ok {
		return kserve.Errorf(kserve.CodeAlreadyExists, "shared memory region '%s' already in manager", name)
	}
	mem, unmap, err := mapSHM(key, offset, size)
	if err != nil {
		return kserve.Errorf(kserve.CodeInvalidArg, "Unable to open shared memory region: '%s': %v", key, err)
	}
	if r.regions == nil {
		r.regions = map[string]*shmRegion{}
	}
	r.regions[name] = &shmRegion{name: name, key: key, offset: offset, size: size, mem: mem, unmap: unmap}
	return nil
}

// unregister removes a region, or every region when name is empty; an
// unknown name is not an error (Triton's behaviour).
func (r *shmRegistry) unregister(name string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var first error
	for n, reg := range r.regions {
		if name != "" && n != name {
			continue
		}
		if err := reg.unmap(); err != nil && first == nil {
			first = kserve.Errorf(kserve.CodeInternal, "unable to unmap shared memory region '%s': %v", n, err)
		}
		delete(r.regions, n)
	}
	return first
}

type shmStatus struct {
	Name     string `json:"name"`
	Key      string `json:"key"`
	Offset   int64  `json:"offset"`
	ByteSize int64  `json:"byte_size"`
}

// status lists the regions (one when name is set), by name.
func (r *shmRegistry) status(name string) ([]shmStatus, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := []shmStatus{}
	for n, reg := range r.regions {
		if name == "" || n == name {
			out = append(out, shmStatus{Name: n, Key: reg.key, Offset: reg.offset, ByteSize: reg.size})
		}
	}
	if name != "" && len(out) == 0 {
		return nil, kserve.Errorf(kserve.CodeInvalidArg, "Unable to find system shared memory region: '%s'", name)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// slice returns the bytes a reference names; the caller holds mu for reading.
func (r *shmRegistry) slice(ref kserve.SharedMemoryRef) ([]byte, error) {
	reg, ok := r.regions[ref.Region]
	if !ok {
		return nil, kserve.Errorf(kserve.CodeInvalidArg, "Unable to find system shared memory region: '%s'", ref.Region)
	}
	if ref.Offset >= reg.size {
		return nil, kserve.Errorf(kserve.CodeInvalidArg, "Invalid offset for shared memory region: '%s'", ref.Region)
	}
	if ref.ByteSize > reg.size-ref.Offset {
		return nil, kserve.Errorf(kserve.CodeInvalidArg, "Invalid offset + byte size for shared memory region: '%s'", ref.Region)
	}
	return reg.mem[ref.Offset : ref.Offset+ref.ByteSize : ref.Offset+ref.ByteSize], nil
}

// usesSHM reports whether a request names a region for an input or an output.
func usesSHM(req *kserve.InferRequest) bool {
	for i := range req.Inputs {
		if req.Inputs[i].InSharedMemory() {
			return true
		}
	}
	for _, o := range req.Outputs {
		if _, ok := o.Parameters[kserve.ParamSharedMemoryRegion]; ok {
			return true
		}
	}
	return false
}

// readInputs points each input that names a region at its bytes, checked
// against its shape; the caller holds mu for reading until the request's
// answer is built.
func (r *shmRegistry) readInputs(model string, req *kserve.InferRequest) error {
	for i := range req.Inputs {
		t := &req.Inputs[i]
		ref, ok, err := t.SharedMemory()
		if err != nil || !ok {
			if err != nil {
				return err
			}
			continue
		}
		data, err := r.slice(ref)
		if err != nil {
			return err
		}
		if t.Datatype != kserve.BYTES {
			want, err := kserve.ByteSize(t.Datatype, t.Shape)
			if err != nil {
				return kserve.Errorf(kserve.CodeInvalidArg, "input '%s': %v", t.Name, err)
			}
			if want != ref.ByteSize {
				return kserve.Errorf(kserve.CodeInvalidArg, "input byte size mismatch for input '%s' for model '%s'. Expected %d, got %d", t.Name, model, want, ref.ByteSize)
			}
		}
		t.Data = data
		delete(t.Parameters, kserve.ParamSharedMemoryRegion)
		delete(t.Parameters, kserve.ParamSharedMemoryOffset)
		delete(t.Parameters, kserve.ParamSharedMemoryByteSize)
	}
	return nil
}

// outputRefs reads the regions the requested outputs name, checked before
// the request reaches the model.
func (r *shmRegistry) outputRefs(req *kserve.InferRequest) (map[string]kserve.SharedMemoryRef, error) {
	var refs map[string]kserve.SharedMemoryRef
	for _, o := range req.Outputs {
		t := kserve.Tensor{Name: o.Name, Parameters: o.Parameters}
		ref, ok, err := t.SharedMemory()
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		if _, err := r.slice(ref); err != nil {
			return nil, err
		}
		if refs == nil {
			refs = map[string]kserve.SharedMemoryRef{}
		}
		refs[o.Name] = ref
	}
	return refs, nil
}

// writeOutputs copies each output that has a region into it and leaves
// its data out of the answer, its parameters naming the region.
func (r *shmRegistry) writeOutputs(refs map[string]kserve.SharedMemoryRef, resp *kserve.InferResponse) error {
	for i := range resp.Outputs {
		t := &resp.Outputs[i]
		ref, ok := refs[t.Name]
		if !ok {
			continue
		}
		dst, err := r.slice(ref)
		if err != nil {
			return err
		}
		if int64(len(t.Data)) > ref.ByteSize {
			return kserve.Errorf(kserve.CodeInvalidArg, "shared memory size specified with the request for output '%s' (%d bytes) should be at least %d bytes to hold the results", t.Name, ref.ByteSize, len(t.Data))
		}
		copy(dst, t.Data)
		t.Data = nil
		t.Parameters = kserve.Parameters{
			kserve.ParamSharedMemoryRegion:   ref.Region,
			kserve.ParamSharedMemoryOffset:   ref.Offset,
			kserve.ParamSharedMemoryByteSize: ref.ByteSize,
		}
	}
	return nil
}

// Triton's routes of the extension.
var shmRoute = regexp.MustCompile(`^/v2/systemsharedmemory(?:/region/([^/]+))?/(status|register|unregister)$`)

// serveSHM answers the extension's routes, and reports whether path was one.
func (s *Server) serveSHM(w http.ResponseWriter, r *http.Request) bool {
	m := shmRoute.FindStringSubmatch(r.URL.Path)
	if m == nil {
		return false
	}
	name, action := m[1], m[2]
	switch action {
	case "status":
		if !allow(w, r, http.MethodGet) {
			return true
		}
		st, err := s.shm.status(name)
		if err != nil {
			writeKServeError(w, err)
			return true
		}
		writeJSON(w, http.StatusOK, st)
	case "register":
		if !allow(w, r, http.MethodPost) {
			return true
		}
		if name == "" {
			writeError(w, http.StatusBadRequest, "register requires a region name in the URL")
			return true
		}
		var body struct {
			Key      *string `json:"key"`
			Offset   int64   `json:"offset"`
			ByteSize *int64  `json:"byte_size"`
		}
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16))
		if err := dec.Decode(&body); err != nil {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("failed to parse the request JSON buffer: %v", err))
			return true
		}
		if body.Key == nil || body.ByteSize == nil {
			writeError(w, http.StatusBadRequest, "Shared memory register request has no 'key' or 'byte_size'")
			return true
		}
		if err := s.shm.register(name, *body.Key, body.Offset, *body.ByteSize); err != nil {
			writeKServeError(w, err)
			return true
		}
		w.WriteHeader(http.StatusOK)
	case "unregister":
		if !allow(w, r, http.MethodPost) {
			return true
		}
		if err := s.shm.unregister(name); err != nil {
			writeKServeError(w, err)
			return true
		}
		w.WriteHeader(http.StatusOK)
	}
	return true
}
