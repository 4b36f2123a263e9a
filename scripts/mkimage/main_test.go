package main

import (
	"archive/tar"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// imageTarball is the image scripts/test.sh built ($INFERBENCH_IMAGE), or
// one built here from a fresh static binary.
func imageTarball(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("INFERBENCH_IMAGE"); p != "" {
		return p
	}
	if runtime.GOOS != "linux" {
		t.Skip("the image holds a Linux binary: run on Linux")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "inferbench")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, "../../cmd/inferbench")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ca := CACertPath
	if _, err := os.Stat(ca); err != nil {
		ca = ""
	}
	img, version, err := Build(Options{Binary: bin, CACerts: ca, Created: time.Unix(0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "image.tar")
	if err := Write(out, "inferbench:"+tagSafe(version), img); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestImageReadBack(t *testing.T) {
	path := imageTarball(t)
	manifest, err := tarball.LoadManifest(func() (io.ReadCloser, error) { return os.Open(path) })
	if err != nil {
		t.Fatalf("reading the tarball's manifest.json: %v", err)
	}
	if len(manifest) != 1 || len(manifest[0].RepoTags) != 1 || !strings.HasPrefix(manifest[0].RepoTags[0], "inferbench:") {
		t.Fatalf("manifest.json: want one image tagged inferbench:VERSION, got %+v", manifest)
	}
	tag, err := name.NewTag(manifest[0].RepoTags[0])
	if err != nil {
		t.Fatal(err)
	}
	img, err := tarball.ImageFromPath(path, &tag)
	if err != nil {
		t.Fatalf("reading the image back: %v", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.OS != "linux" || cf.Architecture != runtime.GOARCH && os.Getenv("INFERBENCH_IMAGE") == "" {
		t.Errorf("platform %s/%s, want linux/%s", cf.OS, cf.Architecture, runtime.GOARCH)
	}
	if got := cf.Config.Entrypoint; len(got) != 1 || got[0] != BinaryPath {
		t.Errorf("entrypoint %q, want [%s]", got, BinaryPath)
	}
	if cf.Config.User != "65532:65532" {
		t.Errorf("user %q, want 65532:65532 (non-root)", cf.Config.User)
	}
	for _, k := range []string{"org.opencontainers.image.version", "org.opencontainers.image.source"} {
		if cf.Config.Labels[k] == "" {
			t.Errorf("label %s missing: %v", k, cf.Config.Labels)
		}
	}
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("want one layer, got %d (%v)", len(layers), err)
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()

	// Every file of the layer, the binary extracted to run it.
	dir := t.TempDir()
	bin := filepath.Join(dir, "inferbench")
	files := map[string]*tar.Header{}
	var passwd string
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("reading the layer: %v", err)
		}
		files["/"+strings.TrimSuffix(h.Name, "/")] = h
		switch "/" + h.Name {
		case BinaryPath:
			f, err := os.OpenFile(bin, os.O_CREATE|os.O_WRONLY, 0o755)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.Copy(f, tr); err != nil {
				t.Fatal(err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
		case "/etc/passwd":
			b, _ := io.ReadAll(tr)
			passwd = string(b)
		}
	}
	if h := files[BinaryPath]; h == nil || h.Mode&0o111 == 0 {
		t.Fatalf("no executable %s in the layer", BinaryPath)
	}
	if !strings.Contains(passwd, ":x:65532:65532:") {
		t.Errorf("/etc/passwd has no user 65532:\n%s", passwd)
	}
	if h := files["/tmp"]; h == nil || h.Mode&0o1777 != 0o1777 {
		t.Errorf("no world-writable /tmp in the layer")
	}
	if _, err := os.Stat(CACertPath); err == nil && files[CACertPath] == nil {
		t.Errorf("the build machine has %s but the image does not", CACertPath)
	}
	if runtime.GOOS != "linux" || cf.Architecture != runtime.GOARCH {
		t.Skipf("cannot run a linux/%s binary here", cf.Architecture)
	}
	if _, err := staticArch(bin); err != nil {
		t.Error(err)
	}
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("inferbench --version from the image: %v\n%s", err, out)
	}
	if want := "inferbench version " + cf.Config.Labels["org.opencontainers.image.version"]; strings.TrimSpace(string(out)) != want {
		t.Errorf("--version printed %q, want %q", out, want)
	}
}

func TestBuildRefusesDynamicBinary(t *testing.T) {
	// A script is no ELF; a dynamically linked binary names an interpreter.
	dir := t.TempDir()
	script := filepath.Join(dir, "x.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Build(Options{Binary: script}); err == nil || !strings.Contains(err.Error(), "not a Linux binary") {
		t.Errorf("a script: %v", err)
	}
	if dyn, err := exec.LookPath("sh"); err == nil && runtime.GOOS == "linux" {
		if _, _, err := Build(Options{Binary: dyn}); err == nil || !strings.Contains(err.Error(), "CGO_ENABLED=0") && !strings.Contains(err.Error(), "not a Linux") {
			t.Errorf("%s: %v", dyn, err)
		}
	}
	if _, _, err := Build(Options{Binary: filepath.Join(dir, "missing")}); err == nil || !strings.Contains(err.Error(), "reading the binary") {
		t.Errorf("a missing file: %v", err)
	}
}

func TestTagSafe(t *testing.T) {
	for in, want := range map[string]string{"0.1.0-dev": "0.1.0-dev", "1.2+meta/x": "1.2-meta-x"} {
		if got := tagSafe(in); got != want {
			t.Errorf("tagSafe(%q) = %q, want %q", in, got, want)
		}
	}
}
