package cli

import (
	"context"
	"encoding/base64"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/inferbench/inferbench/internal/refserver"
	"github.com/inferbench/inferbench/internal/reftest"
	"github.com/inferbench/inferbench/internal/result"
)

const (
	secretUser = "bob"
	secretPass = "s3cret-Pa55"
)

var wantBasic = "Basic " + base64.StdEncoding.EncodeToString([]byte(secretUser+":"+secretPass))

// basicAuthHTTP serves the reference server's HTTP API behind HTTP Basic
// authentication: 401 without the right Authorization header.
func basicAuthHTTP(t *testing.T, srv *refserver.Server, refused *atomic.Int64) string {
	t.Helper()
	h := srv.HTTPHandler()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != wantBasic {
			refused.Add(1)
			w.Header().Set("WWW-Authenticate", `Basic realm="models"`)
			http.Error(w, `{"error": "unauthorized"}`, http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	return ts.Listener.Addr().String()
}

// rawCodec passes gRPC messages through as bytes.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) { return *(v.(*[]byte)), nil }
func (rawCodec) Unmarshal(data []byte, v any) error {
	*(v.(*[]byte)) = append([]byte(nil), data...)
	return nil
}
func (rawCodec) Name() string { return "proto" }

// basicAuthGRPC proxies unary calls to the reference server's gRPC
// address when the call's authorization metadata is right, and refuses
// them (UNAUTHENTICATED) otherwise.
func basicAuthGRPC(t *testing.T, backend string, refused *atomic.Int64) string {
	t.Helper()
	conn, err := grpc.NewClient(backend, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	g := grpc.NewServer(grpc.ForceServerCodec(rawCodec{}), grpc.UnknownServiceHandler(func(_ any, stream grpc.ServerStream) error {
		md, _ := metadata.FromIncomingContext(stream.Context())
		if a := md.Get("authorization"); len(a) != 1 || a[0] != wantBasic {
			refused.Add(1)
			return status.Error(codes.Unauthenticated, "unauthorized")
		}
		method, _ := grpc.MethodFromServerStream(stream)
		var in, out []byte
		if err := stream.RecvMsg(&in); err != nil {
			return err
		}
		if err := conn.Invoke(stream.Context(), method, &in, &out, grpc.ForceCodec(rawCodec{})); err != nil {
			return err
		}
		return stream.SendMsg(&out)
	}))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go g.Serve(l)
	t.Cleanup(g.Stop)
	return l.Addr().String()
}

// TestURLCredentialsAreSentAndNeverWritten: user:password@ in a plan's
// URLs is sent as HTTP Basic credentials (the authorization metadata
// over gRPC), and the password appears in no file and on no stream.
func TestURLCredentialsAreSentAndNeverWritten(t *testing.T) {
	srv, err := refserver.New(refserver.Options{Models: []refserver.ModelSpec{reftest.Small("m", refserver.NewInstances(4, time.Millisecond))}})
	if err != nil {
		t.Fatal(err)
	}
	r := reftest.Serve(t, refserver.Options{Models: []refserver.ModelSpec{reftest.Small("m", refserver.NewInstances(4, time.Millisecond))}})
	var refused atomic.Int64
	httpAddr := basicAuthHTTP(t, srv, &refused)
	grpcAddr := basicAuthGRPC(t, r.GRPCAddr, &refused)
	planPath := writePlan(t, `# credentials in URLs (the old one, http://ops:`+secretPass+`@example.com, is gone)
deployments:
  - {name: web, protocol: kserve-http, url: "http://`+secretUser+`:`+secretPass+`@`+httpAddr+`", model: m, metrics_url: "off"}
  - {name: rpc, protocol: kserve-grpc, url: "grpc://`+secretUser+`:`+secretPass+`@`+grpcAddr+`", model: m, metrics_url: "off"}
  - {name: gone, protocol: kserve-http, url: "http://`+secretUser+`:`+secretPass+`@127.0.0.1:1", model: m}
steps:
  - {name: one, concurrency: 2, requests: 40}
`)
	out := t.TempDir()
	stdout, stderr, err := runCLI(context.Background(), "run", planPath, "-o", out, "--format", "text")
	if err != nil {
		t.Fatalf("run: %v\n%s", err, stderr)
	}
	f, err := result.Read(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, run := range f.Runs {
		if run.Deployment.Name == "gone" {
			continue
		}
		if run.Status != result.StatusOK || run.Counts.OK != 40 || run.Counts.Errors != 0 {
			t.Errorf("%s: %s, %d/%d ok: the credentials were not sent (%s)", run.Deployment.Name, run.Status, run.Counts.OK, run.Counts.Sent, run.Failure)
		}
		if !strings.Contains(run.Deployment.URL, secretUser+":xxxxx@") {
			t.Errorf("%s: stored URL %q, want the password redacted", run.Deployment.Name, run.Deployment.URL)
		}
	}
	if refused.Load() != 0 {
		t.Errorf("%d calls came without the right credentials", refused.Load())
	}
	if !strings.Contains(f.Plan.Text, secretUser+":xxxxx@") {
		t.Errorf("stored plan text:\n%s", f.Plan.Text)
	}
	// bench with --url, its report and result file too.
	benchResults := filepath.Join(out, "bench.json")
	bout, berr, err := runCLI(context.Background(), "bench", "--url", "http://"+secretUser+":"+secretPass+"@"+httpAddr, "--model", "m",
		"-n", "20", "--metrics-url", "off", "--format", "html", "-o", filepath.Join(out, "bench.html"), "--results", benchResults)
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, berr)
	}
	if bf, err := result.Read(benchResults); err != nil || bf.Runs[0].Counts.OK != 20 {
		t.Errorf("bench: %v %+v", err, bf)
	}
	// A wrong scheme for gRPC credentials is refused without the password.
	_, cerr, err := runCLI(context.Background(), "check", "--url", secretUser+":"+secretPass+"@"+grpcAddr, "--protocol", "kserve-grpc", "--model", "m")
	if err == nil || strings.Contains(err.Error(), secretPass) || !strings.Contains(err.Error(), "grpc://") {
		t.Errorf("check with credentials in host:port: %v", err)
	}
	streams := map[string]string{"run stdout": stdout, "run stderr": stderr, "bench stdout": bout, "bench stderr": berr, "check stderr": cerr}
	entries, _ := os.ReadDir(out)
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(out, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		streams[e.Name()] = string(data)
	}
	if len(entries) < 6 { // results.json, report.md/csv/html, bench.json, bench.html
		t.Errorf("only %d files written", len(entries))
	}
	for name, text := range streams {
		if strings.Contains(text, secretPass) {
			t.Errorf("%s holds the password", name)
		}
	}
	if !strings.Contains(stderr, secretUser+":xxxxx@127.0.0.1:1") {
		t.Errorf("the failed deployment's URL is not shown redacted:\n%s", stderr)
	}
}
