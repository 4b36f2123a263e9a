// Command mkimage writes inferbench's container image as a tarball that
// `docker load`, `kind load image-archive`, `podman load` and `ctr import`
// take, with no Docker daemon and no network: one layer holding the static
// binary at /usr/local/bin/inferbench, the build machine's CA certificates
// and a minimal /etc/passwd and /etc/group for the non-root user 65532. It is
// the same image as the Dockerfile's, kept out of the inferbench binary.
//
//	CGO_ENABLED=0 go build -trimpath -o inferbench ./cmd/inferbench
//	go run ./scripts/mkimage -binary inferbench -o inferbench-image.tar
//	docker load -i inferbench-image.tar   # or: kind load image-archive inferbench-image.tar
package main

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// The image's fixed facts, the Dockerfile's too.
const (
	BinaryPath = "/usr/local/bin/inferbench"
	UID        = 65532
	UserName   = "nonroot"
	HomeDir    = "/home/nonroot"
	CACertPath = "/etc/ssl/certs/ca-certificates.crt"
	Source     = "https://github.com/inferbench/inferbench"
)

// Options say what goes into the image.
type Options struct {
	Binary  string    // the static inferbench binary to put in it
	CACerts string    // a CA bundle to copy in; empty: none
	Version string    // the version label; empty: asked of the binary (`--version`)
	Created time.Time // every file's time and the config's creation time
}

func main() {
	var o Options
	var out, tag string
	var epoch int64
	flag.StringVar(&o.Binary, "binary", "inferbench", "the static (CGO_ENABLED=0) inferbench binary to put in the image")
	flag.StringVar(&out, "o", "inferbench-image.tar", "the image tarball to write")
	flag.StringVar(&tag, "tag", "", "the image's name and tag (default inferbench:VERSION)")
	flag.StringVar(&o.Version, "version", "", "the version label (default: what the binary's --version prints)")
	flag.StringVar(&o.CACerts, "ca-certs", CACertPath, "a CA bundle to copy into the image; empty or missing: none")
	flag.Int64Var(&epoch, "source-date-epoch", 0, "the files' and the config's time, in Unix seconds (reproducible builds; default $SOURCE_DATE_EPOCH or 0)")
	flag.Parse()
	if epoch == 0 {
		if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
			if _, err := fmt.Sscan(s, &epoch); err != nil {
				fail(fmt.Errorf("SOURCE_DATE_EPOCH %q: %w", s, err))
			}
		}
	}
	o.Created = time.Unix(epoch, 0).UTC()
	if o.CACerts != "" {
		if _, err := os.Stat(o.CACerts); errors.Is(err, os.ErrNotExist) {
			fmt.Fprintf(os.Stderr, "mkimage: no CA bundle at %s: the image has none (https to public hosts will fail)\n", o.CACerts)
			o.CACerts = ""
		}
	}
	img, version, err := Build(o)
	if err != nil {
		fail(err)
	}
	if tag == "" {
		tag = "inferbench:" + tagSafe(version)
	}
	if err := Write(out, tag, img); err != nil {
		fail(err)
	}
	d, _ := img.Digest()
	fmt.Printf("wrote %s (%s, %s)\n", out, tag, d)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "mkimage:", err)
	os.Exit(1)
}

// tagSafe makes a version a valid tag: [A-Za-z0-9_.-], at most 128.
func tagSafe(v string) string {
	b := []byte(v)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			b[i] = '-'
		}
	}
	if len(b) > 128 {
		b = b[:128]
	}
	return string(b)
}

// Write writes an image as a tarball `docker load` takes, tagged tag.
func Write(path, tag string, img v1.Image) error {
	ref, err := name.NewTag(tag)
	if err != nil {
		return fmt.Errorf("image tag %q: %w", tag, err)
	}
	if err := tarball.WriteToFile(path, ref, img); err != nil {
		return fmt.Errorf("writing image tarball %s: %w", path, err)
	}
	return nil
}

// Build makes the image and returns it with its version label.
func Build(o Options) (v1.Image, string, error) {
	bin, err := os.ReadFile(o.Binary)
	if err != nil {
		return nil, "", fmt.Errorf("reading the binary: %w", err)
	}
	arch, err := staticArch(o.Binary)
	if err != nil {
		return nil, "", err
	}
	version := o.Version
	if version == "" {
		if version, err = askVersion(o.Binary); err != nil {
			return nil, "", err
		}
	}
	var certs []byte
	if o.CACerts != "" {
		if certs, err = os.ReadFile(o.CACerts); err != nil {
			return nil, "", fmt.Errorf("reading the CA bundle: %w", err)
		}
	}
	layerTar, err := rootFS(bin, certs, o.Created)
	if err != nil {
		return nil, "", err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("making the layer: %w", err)
	}
	img, err := mutate.Append(empty.Image, mutate.Addendum{
		Layer:   layer,
		History: v1.History{Created: v1.Time{Time: o.Created}, CreatedBy: "scripts/mkimage", Comment: "inferbench " + version},
	})
	if err != nil {
		return nil, "", fmt.Errorf("adding the layer: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, "", fmt.Errorf("reading the config: %w", err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", arch
	cf.Created = v1.Time{Time: o.Created}
	cf.Config.User = fmt.Sprintf("%d:%d", UID, UID)
	cf.Config.Entrypoint = []string{BinaryPath}
	cf.Config.Cmd = []string{"--help"}
	cf.Config.WorkingDir = HomeDir
	cf.Config.Env = []string{"PATH=/usr/local/bin", "HOME=" + HomeDir, "SSL_CERT_FILE=" + CACertPath}
	cf.Config.Labels = map[string]string{
		"org.opencontainers.image.title":       "inferbench",
		"org.opencontainers.image.description": "benchmarks ML inference deployments (KServe v2, Triton, NIM)",
		"org.opencontainers.image.version":     version,
		"org.opencontainers.image.source":      Source,
		"org.opencontainers.image.licenses":    "Apache-2.0",
	}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, "", fmt.Errorf("setting the config: %w", err)
	}
	return img, version, nil
}

// staticArch checks that a file is a Linux ELF executable with no
// interpreter (static: the image has no libc) and returns its GOARCH.
func staticArch(path string) (string, error) {
	f, err := elf.Open(path)
	if err != nil {
		return "", fmt.Errorf("%s is not a Linux binary: %w", path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return "", fmt.Errorf("%s is dynamically linked: build it with CGO_ENABLED=0", path)
		}
	}
	switch f.Machine {
	case elf.EM_X86_64:
		return "amd64", nil
	case elf.EM_AARCH64:
		return "arm64", nil
	case elf.EM_386:
		return "386", nil
	case elf.EM_ARM:
		return "arm", nil
	case elf.EM_PPC64:
		return "ppc64le", nil
	case elf.EM_S390:
		return "s390x", nil
	case elf.EM_RISCV:
		return "riscv64", nil
	}
	return "", fmt.Errorf("%s: machine %s has no GOARCH here", path, f.Machine)
}

// askVersion runs `binary --version` ("inferbench version X").
func askVersion(bin string) (string, error) {
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		return "", fmt.Errorf("%s --version (another architecture? give -version): %w", bin, err)
	}
	f := strings.Fields(string(out))
	if len(f) == 0 {
		return "", fmt.Errorf("%s --version printed nothing", bin)
	}
	return f[len(f)-1], nil
}

// rootFS is the layer's tar: directories, the binary, the CA bundle, the
// user's passwd and group lines, a writable /tmp and home.
func rootFS(bin, certs []byte, mtime time.Time) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dir := func(name string, mode int64, uid int) error {
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: mode, Uid: uid, Gid: uid, ModTime: mtime, Format: tar.FormatPAX})
	}
	file := func(name string, mode int64, data []byte) error {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(data)), ModTime: mtime, Format: tar.FormatPAX}); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	passwd := fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\n%s:x:%d:%d:%s:%s:/sbin/nologin\n", UserName, UID, UID, UserName, HomeDir)
	group := fmt.Sprintf("root:x:0:\n%s:x:%d:\n", UserName, UID)
	steps := []func() error{
		func() error { return dir("etc", 0o755, 0) },
		func() error { return file("etc/passwd", 0o644, []byte(passwd)) },
		func() error { return file("etc/group", 0o644, []byte(group)) },
		func() error { return dir("home", 0o755, 0) },
		func() error { return dir("home/nonroot", 0o700, UID) },
		func() error { return dir("tmp", 0o1777, 0) },
		func() error { return dir("usr", 0o755, 0) },
		func() error { return dir("usr/local", 0o755, 0) },
		func() error { return dir("usr/local/bin", 0o755, 0) },
		func() error { return file(strings.TrimPrefix(BinaryPath, "/"), 0o755, bin) },
	}
	if certs != nil {
		steps = append(steps,
			func() error { return dir("etc/ssl", 0o755, 0) },
			func() error { return dir("etc/ssl/certs", 0o755, 0) },
			func() error { return file(strings.TrimPrefix(CACertPath, "/"), 0o644, certs) },
		)
	}
	for _, s := range steps {
		if err := s(); err != nil {
			return nil, fmt.Errorf("writing the layer: %w", err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("writing the layer: %w", err)
	}
	return buf.Bytes(), nil
}
