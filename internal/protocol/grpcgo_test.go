package protocol_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/inferbench/inferbench/internal/kserve"
	"github.com/inferbench/inferbench/internal/kserve/pb"
	"github.com/inferbench/inferbench/internal/load"
	classes "github.com/inferbench/inferbench/internal/measure"
	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/refserver"
	"github.com/inferbench/inferbench/internal/reftest"
)

// transportRun is what one gRPC transport made of the same loads against
// its own reference server (the same seeds, so the same injected faults).
type transportRun struct {
	counts  map[string][3]int64              // scenario: sent, ok, errors
	classes map[string]map[string]int64      // scenario: error class: count
	outputs map[string]*kserve.InferResponse // Infer's answers
	md      *kserve.ModelMetadata
	cfg     *pb.ModelConfig
}

// equivalenceModels are the models both transports are run against: one
// that fails a quarter of its requests (seeded), one slower than the
// calls' timeout, one whose connection drops a fifth of the time, one
// whose answer (4 KiB) is over a 1 KiB response limit.
func equivalenceModels() []refserver.ModelSpec {
	failing := reftest.Small("failing", refserver.NewInstances(4, 0))
	failing.ErrorRate, failing.Seed = 0.25, 7
	slow := reftest.Small("slow", refserver.NewInstances(8, 2*time.Second))
	dropping := reftest.Small("dropping", refserver.NewInstances(1, 0))
	dropping.Faults.DropProbability, dropping.Seed = 0.2, 11
	big := reftest.Small("big", refserver.NewInstances(1, 0))
	big.Outputs[0].Shape = []int64{1024}
	batched := refserver.ModelSpec{Name: "batched", Emulator: refserver.NewInstances(2, 0), MaxBatchSize: 8, InstanceCount: 2,
		Inputs:  []kserve.TensorMetadata{{Name: "x", Datatype: kserve.INT32, Shape: []int64{3}}},
		Outputs: []kserve.TensorMetadata{{Name: "y", Datatype: kserve.FP32, Shape: []int64{10}}}}
	return []refserver.ModelSpec{failing, slow, dropping, big, batched}
}

// runTransport runs the scenarios over one transport.
func runTransport(t *testing.T, transport string) transportRun {
	t.Helper()
	r := reftest.Serve(t, refserver.Options{Models: equivalenceModels()})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	ctx := context.Background()
	run := transportRun{counts: map[string][3]int64{}, classes: map[string]map[string]int64{}, outputs: map[string]*kserve.InferResponse{}}
	open := func(addr string, opts protocol.Options) protocol.Client {
		opts.Kind, opts.URL, opts.GRPCTransport = protocol.KServeGRPC, addr, transport
		return newClient(t, opts)
	}
	c := open(r.GRPCAddr, protocol.Options{Timeout: 10 * time.Second})

	// The control plane.
	if ok, err := c.ServerReady(ctx); !ok || err != nil {
		t.Fatalf("ready: %v, %v", ok, err)
	}
	if ok, err := c.ModelReady(ctx, "batched", "1"); !ok || err != nil {
		t.Fatalf("model ready: %v, %v", ok, err)
	}
	if run.md, err = c.ModelMetadata(ctx, "batched", ""); err != nil {
		t.Fatal(err)
	}
	if run.cfg, err = c.ModelConfig(ctx, "batched", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ModelMetadata(ctx, "nope", ""); classOf(err) != classes.ClassGRPCStatus {
		t.Errorf("metadata of an unknown model: %v", err)
	} else if se, _ := protocol.IsServerError(err); se.GRPCCode != codes.InvalidArgument {
		t.Errorf("metadata of an unknown model: %v, want INVALID_ARGUMENT", err)
	}

	// Answers, read in full: the outputs carry the inputs' fingerprint.
	x, _ := kserve.NewTensor("x", kserve.INT32, []int64{2, 3}, []float64{1, 2, 3, 4, 5, 6})
	p, err := c.Prepare("batched", "", &kserve.InferRequest{ID: "b-1", Inputs: []kserve.Tensor{x}})
	if err != nil {
		t.Fatal(err)
	}
	if run.outputs["batched"], err = c.Infer(ctx, p); err != nil {
		t.Fatal(err)
	}
	if fp, ok := kserve.ReadFingerprint(run.outputs["batched"].Output("y")); !ok || fp != kserve.Fingerprint([]kserve.Tensor{x}) {
		t.Errorf("the output does not carry the input's fingerprint")
	}

	// Loads through the engine, exact counts.
	small := func(c protocol.Client, model string) protocol.Payload {
		x, _ := kserve.NewTensor("x", kserve.FP32, []int64{4}, []float64{1, 2, 3, 4})
		p, err := c.Prepare(model, "", &kserve.InferRequest{Inputs: []kserve.Tensor{x}})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	loads := []struct {
		name        string
		client      protocol.Client
		model       string
		concurrency int
		requests    int
	}{
		{"failing", c, "failing", 4, 200},
		{"slow", open(r.GRPCAddr, protocol.Options{Timeout: 100 * time.Millisecond}), "slow", 2, 4},
		{"dropping", c, "dropping", 1, 40},
		{"refused", open(closed, protocol.Options{Timeout: 5 * time.Second, ConnectTimeout: time.Second}), "failing", 1, 3},
		{"over the limit", open(r.GRPCAddr, protocol.Options{MaxResponseSize: 1 << 10}), "big", 2, 10},
	}
	for _, l := range loads {
		md := *tinyMetadata
		md.Name = l.model
		if l.model == "big" {
			md.Outputs = []kserve.TensorMetadata{{Name: "y", Datatype: kserve.FP32, Shape: []int64{1024}}}
		}
		res, err := load.Run(ctx, load.Config{Client: l.client, Payloads: []protocol.Payload{small(l.client, l.model)},
			Validate: protocol.NewChecker(&md, nil), Concurrency: l.concurrency, Requests: l.requests})
		if err != nil {
			t.Fatalf("%s: %v", l.name, err)
		}
		run.counts[l.name] = [3]int64{res.Sent, res.OK, res.Errors}
		run.classes[l.name] = map[string]int64{}
		for _, g := range res.ErrorGroups {
			run.classes[l.name][g.Class] += g.Count
		}
		t.Logf("%s %s: sent %d, ok %d, errors %d %v", transport, l.name, res.Sent, res.OK, res.Errors, res.ErrorGroups)
	}
	return run
}

// TestGRPCTransportsAgree: the fast transport and grpc-go, each against
// its own reference server with the same seeded faults, give the same
// answers, counts and error classes.
func TestGRPCTransportsAgree(t *testing.T) {
	fast := runTransport(t, protocol.GRPCTransportFast)
	goRun := runTransport(t, protocol.GRPCTransportGo)

	want := map[string]string{ // the class each load's errors must be
		"failing": classes.ClassGRPCStatus, "slow": classes.ClassTimeout, "dropping": classes.ClassConnectionReset,
		"refused": classes.ClassConnectionRefused, "over the limit": classes.ClassMalformed,
	}
	for name, class := range want {
		f, g := fast.counts[name], goRun.counts[name]
		if f != g {
			t.Errorf("%s: fast sent/ok/errors %v, grpc-go %v", name, f, g)
		}
		if !reflect.DeepEqual(fast.classes[name], goRun.classes[name]) {
			t.Errorf("%s: fast error classes %v, grpc-go %v", name, fast.classes[name], goRun.classes[name])
		}
		if f[2] == 0 || len(fast.classes[name]) != 1 || fast.classes[name][class] != f[2] {
			t.Errorf("%s: %d errors of classes %v, want them all %s", name, f[2], fast.classes[name], class)
		}
	}
	for _, name := range []string{"failing", "dropping"} { // some fail, not all
		if c := fast.counts[name]; c[1] == 0 {
			t.Errorf("%s: no success in %v", name, c)
		}
	}
	if !reflect.DeepEqual(fast.md, goRun.md) {
		t.Errorf("metadata: fast %+v, grpc-go %+v", fast.md, goRun.md)
	}
	if !proto.Equal(fast.cfg, goRun.cfg) {
		t.Errorf("config: fast %v, grpc-go %v", fast.cfg, goRun.cfg)
	}
	if !reflect.DeepEqual(fast.outputs, goRun.outputs) {
		t.Errorf("answers differ: fast %+v, grpc-go %+v", fast.outputs, goRun.outputs)
	}
}

// selfSigned makes a certificate for host, and the pool that trusts it.
func selfSigned(t *testing.T, host string) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

// TestGRPCGoTLS: grpc-go honours Options.TLS and Options.Authority (the
// server name checked when the TLS settings name none); a certificate it
// cannot trust is a tls error, before any answer.
func TestGRPCGoTLS(t *testing.T) {
	const host = "triton.inferbench.test"
	cert, pool := selfSigned(t, host)
	srv, err := refserver.New(refserver.Options{Models: []refserver.ModelSpec{reftest.Small("m", refserver.NewInstances(2, 0))}})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := srv.NewGRPCServer()
	go g.Serve(tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2"}}))
	t.Cleanup(g.Stop)
	addr := ln.Addr().String()
	_, otherPool := selfSigned(t, host)

	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		opts  protocol.Options
		class string
	}{
		{"trusted, by authority", protocol.Options{TLS: &tls.Config{RootCAs: pool}, Authority: host}, "ok"},
		{"trusted, by server name", protocol.Options{TLS: &tls.Config{RootCAs: pool, ServerName: host}}, "ok"},
		{"another CA", protocol.Options{TLS: &tls.Config{RootCAs: otherPool, ServerName: host}}, classes.ClassTLS},
		{"another name", protocol.Options{TLS: &tls.Config{RootCAs: pool, ServerName: "other.test"}}, classes.ClassTLS},
		{"plain text to TLS", protocol.Options{}, classes.ClassConnectionReset},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Kind, tc.opts.URL, tc.opts.GRPCTransport = protocol.KServeGRPC, addr, protocol.GRPCTransportGo
			tc.opts.Timeout = 10 * time.Second
			_, caller, p := grpcCallerFor(t, addr, tinyMetadata, tc.opts)
			out := caller.Call(ctx, p)
			if got := classOf(out.Err); got != tc.class {
				t.Errorf("%v (%s), want %s", out.Err, got, tc.class)
			}
			if out.Err != nil && strings.Contains(out.Err.Error(), "\n") {
				t.Errorf("%q is not one line", out.Err)
			}
			t.Log(out.Err)
		})
	}
}

// TestClassifyGRPCGoWords: grpc-go's status errors, raw or as
// ServerErrors with grpc-go's words, fall in the classes the fast
// transport's failures do.
func TestClassifyGRPCGoWords(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{status.Error(codes.Internal, "injected failure"), classes.ClassGRPCStatus},
		{fmt.Errorf("ModelInfer: %w", status.Error(codes.DeadlineExceeded, "context deadline exceeded")), classes.ClassTimeout},
		{status.Error(codes.Canceled, "context canceled"), classes.ClassCanceled},
		{status.Error(codes.Unavailable, `connection error: desc = "transport: Error while dialing: dial tcp 127.0.0.1:1: connect: connection refused"`), classes.ClassConnectionRefused},
		{&protocol.ServerError{GRPCCode: codes.Unavailable, Message: "error reading from server: EOF"}, classes.ClassConnectionReset},
		{&protocol.ServerError{GRPCCode: codes.Unavailable, Message: `connection error: desc = "error reading server preface: read tcp 127.0.0.1:5->127.0.0.1:6: read: connection reset by peer"`}, classes.ClassConnectionReset},
		{&protocol.ServerError{GRPCCode: codes.Unavailable, Message: `connection error: desc = "transport: authentication handshake failed: tls: failed to verify certificate: x509: certificate signed by unknown authority"`}, classes.ClassTLS},
		{&protocol.ServerError{GRPCCode: codes.Unavailable, Message: `connection error: desc = "transport: authentication handshake failed: tls: first record does not look like a TLS handshake"`}, classes.ClassTLS},
		{&protocol.ServerError{GRPCCode: codes.Unavailable, Message: `connection error: desc = "transport: Error while dialing: dial tcp 10.0.0.1:8001: i/o timeout"`}, classes.ClassTimeout},
		{&protocol.ServerError{GRPCCode: codes.ResourceExhausted, Message: "grpc: received message larger than max (5000000 vs. 4194304)"}, classes.ClassGRPCStatus}, // the server's limit
		{&protocol.ServerError{GRPCCode: codes.InvalidArgument, Message: "tls: is a model name here"}, classes.ClassGRPCStatus},
	} {
		if got := classOf(tc.err); got != tc.want {
			t.Errorf("%v: %s, want %s", tc.err, got, tc.want)
		}
	}
	// A connect timeout keeps its words; an expired deadline is one group.
	_, msg := protocol.Classify(&protocol.ServerError{GRPCCode: codes.Unavailable, Message: "dial tcp 10.0.0.1:8001: i/o timeout"})
	if !strings.Contains(msg, "i/o timeout") {
		t.Errorf("connect timeout worded %q", msg)
	}
}
