package inputs

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/inferbench/inferbench/internal/kserve"
)

// pngBomb is a PNG whose header claims width x height RGB pixels, with a
// few KB of zlib-compressed zeros as its body: a decoder that trusts the
// header allocates width x height x 4 bytes before it finds the body
// short (60000x60000: 14.4 GB).
func pngBomb(t *testing.T, width, height uint32) []byte {
	t.Helper()
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(kind string, data []byte) {
		binary.Write(&b, binary.BigEndian, uint32(len(data)))
		crc := crc32.NewIEEE()
		crc.Write([]byte(kind))
		crc.Write(data)
		b.WriteString(kind)
		b.Write(data)
		binary.Write(&b, binary.BigEndian, crc.Sum32())
	}
	ihdr := binary.BigEndian.AppendUint32(nil, width)
	ihdr = binary.BigEndian.AppendUint32(ihdr, height)
	ihdr = append(ihdr, 8, 2, 0, 0, 0) // 8 bits, RGB, deflate, no filter, no interlace
	chunk("IHDR", ihdr)
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(make([]byte, 1<<20))
	zw.Close()
	chunk("IDAT", z.Bytes())
	chunk("IEND", nil)
	return b.Bytes()
}

// TestDecompressionBombRefusedFromItsHeader: an image whose header claims
// more than MaxPixels is refused before a pixel is decoded, by LoadImages
// and by Decode, and costs next to nothing (before: 14 GB).
func TestDecompressionBombRefusedFromItsHeader(t *testing.T) {
	bomb := pngBomb(t, 60000, 60000)
	dir := t.TempDir()
	path := filepath.Join(dir, "bomb.png")
	if err := os.WriteFile(path, bomb, 0o644); err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := LoadImages(dir)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "60000x60000 is 3600.0 megapixels, more than the 50") {
		t.Errorf("LoadImages: %v", err)
	}
	if _, err := (Image{Path: "x.png", Encoded: bomb}).Decode(); err == nil || !strings.Contains(err.Error(), "megapixels") {
		t.Errorf("Decode: %v", err)
	}
	if _, err := ImageTensor(Image{Path: "x.png", Encoded: bomb}, imageMeta); err == nil {
		t.Error("ImageTensor decoded a bomb")
	}
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 32<<20 {
		t.Errorf("refusing a %d-byte bomb allocated %d MB", len(bomb), alloc>>20)
	}
	t.Logf("a %d-byte PNG claiming 60000x60000: refused, %d KB allocated", len(bomb), (after.TotalAlloc-before.TotalAlloc)>>10)

	// The same body under a header within the cap decodes (and fails only
	// for being short, as a truncated file does).
	if _, err := LoadImages(writeTemp(t, pngBomb(t, 64, 64))); err != nil && strings.Contains(err.Error(), "megapixels") {
		t.Errorf("a 64x64 image: %v", err)
	}
}

var imageMeta = kserve.TensorMetadata{Name: "images", Datatype: kserve.FP32, Shape: []int64{1, 3, 64, 64}}

func writeTemp(t *testing.T, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "img.png")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCheckPixels(t *testing.T) {
	for _, tt := range []struct {
		w, h int
		ok   bool
	}{
		{1, 1, true}, {640, 480, true}, {7680, 4320, true}, {8000, 6000, true}, {10000, 5000, true},
		{10000, 5001, false}, {60000, 60000, false}, {0, 10, false}, {10, 0, false}, {1 << 31, 1 << 31, false},
	} {
		if err := CheckPixels(tt.w, tt.h); (err == nil) != tt.ok {
			t.Errorf("%dx%d: %v, want ok %v", tt.w, tt.h, err, tt.ok)
		}
	}
}

// TestImageFilesBoundedBeforeReading: files whose sizes add up to more
// than MaxFileBytes are refused from their sizes, before any is read (the
// files here are sparse: they take no disk).
func TestImageFilesBoundedBeforeReading(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"a.png", "b.png", "c.png"} {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Truncate(MaxFileBytes / 2); err != nil {
			t.Skip("no sparse files:", err)
		}
		f.Close()
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := LoadImages(dir)
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "more than 1024 MiB (at "+filepath.Join(dir, "c.png")) {
		t.Errorf("LoadImages: %v", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
		t.Errorf("refusing allocated %d MB", alloc>>20)
	}
}
