package compress_test

import (
	"bytes"
	"compress/flate"
	"errors"
	"strings"
	"testing"

	"github.com/inferbench/inferbench/internal/transport"
	"github.com/inferbench/inferbench/internal/transport/compress"
)

func rawDeflate(t *testing.T, src []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.DefaultCompression)
	w.Write(src)
	w.Close()
	return b.Bytes()
}

func TestRoundTrip(t *testing.T) {
	body := []byte(strings.Repeat(`{"name":"output0","datatype":"FP32"}`, 500))
	var d compress.Decoder
	for _, e := range []compress.Encoding{compress.Gzip, compress.Deflate} {
		enc, err := compress.Compress(e, body)
		if err != nil {
			t.Fatal(err)
		}
		if len(enc) >= len(body) {
			t.Errorf("%s: %d bytes compressed to %d", e, len(body), len(enc))
		}
		if e == compress.Deflate && !compress.IsZlib(enc) {
			t.Errorf("deflate is not zlib: % x", enc[:2])
		}
		for i := 0; i < 2; i++ { // the second time on reused readers
			got, err := d.Decode(e, enc, len(body), "response body")
			if err != nil || !bytes.Equal(got, body) {
				t.Fatalf("%s: decoded %d bytes, %v", e, len(got), err)
			}
		}
	}
	// Raw DEFLATE under the name deflate, as some servers send it.
	for i := 0; i < 2; i++ {
		got, err := d.Decode(compress.Deflate, rawDeflate(t, body), len(body), "response body")
		if err != nil || !bytes.Equal(got, body) {
			t.Fatalf("raw deflate: decoded %d bytes, %v", len(got), err)
		}
	}
}

func TestParse(t *testing.T) {
	for _, c := range []struct {
		in   string
		want compress.Encoding
		ok   bool
	}{{"", compress.None, true}, {"none", compress.None, true}, {"gzip", compress.Gzip, true}, {"GZIP", compress.Gzip, true},
		{"deflate", compress.Deflate, true}, {"br", compress.None, false}, {"zstd", compress.None, false}} {
		got, err := compress.Parse(c.in)
		if got != c.want || (err == nil) != c.ok {
			t.Errorf("Parse(%q) = %v, %v", c.in, got, err)
		}
	}
	for _, c := range []struct {
		in   string
		want compress.Encoding
	}{{"", compress.None}, {"identity", compress.None}, {" gzip ", compress.Gzip}, {"x-gzip", compress.Gzip},
		{"Deflate", compress.Deflate}, {"br", compress.Unknown}, {"gzip, br", compress.Unknown}} {
		if got := compress.Of([]byte(c.in)); got != c.want {
			t.Errorf("Of(%q) = %v", c.in, got)
		}
		if got := compress.OfString(c.in); got != c.want {
			t.Errorf("OfString(%q) = %v", c.in, got)
		}
	}
}

// A zip bomb: 64 MiB of zeros compress to some 64 KiB; decoding stops at
// the limit, holding no more than it.
func TestDecodeBounded(t *testing.T) {
	const limit = 1 << 20
	zeros := make([]byte, 64<<20)
	var d compress.Decoder
	for _, e := range []compress.Encoding{compress.Gzip, compress.Deflate} {
		bomb, err := compress.Compress(e, zeros)
		if err != nil {
			t.Fatal(err)
		}
		_, err = d.Decode(e, bomb, limit, "response body")
		var le *transport.LimitError
		if !errors.As(err, &le) || !le.Response || !transport.IsMalformed(err) {
			t.Fatalf("%s bomb of %d bytes: %v", e, len(bomb), err)
		}
		if !strings.Contains(err.Error(), "decoded response body exceeds the limit of 1 MiB") {
			t.Errorf("message: %v", err)
		}
		// Exactly the limit passes.
		exact, _ := compress.Compress(e, zeros[:limit])
		if got, err := d.Decode(e, exact, limit, "response body"); err != nil || len(got) != limit {
			t.Errorf("%s of exactly the limit: %d bytes, %v", e, len(got), err)
		}
	}
}

func TestDecodeGarbage(t *testing.T) {
	var d compress.Decoder
	body := []byte(strings.Repeat("abc", 1000))
	gz, _ := compress.Compress(compress.Gzip, body)
	zl, _ := compress.Compress(compress.Deflate, body)
	for _, c := range []struct {
		name string
		e    compress.Encoding
		data []byte
	}{
		{"html as gzip", compress.Gzip, []byte("<html><body>Bad Gateway</body></html>")},
		{"truncated gzip", compress.Gzip, gz[:len(gz)/2]},
		{"gzip with a wrong checksum", compress.Gzip, append(append([]byte{}, gz[:len(gz)-8]...), 1, 2, 3, 4, 5, 6, 7, 8)},
		{"truncated zlib", compress.Deflate, zl[:len(zl)-2]},
		{"zlib with a wrong checksum", compress.Deflate, append(append([]byte{}, zl[:len(zl)-1]...), zl[len(zl)-1]^1)},
		{"zlib with a dictionary", compress.Deflate, []byte{0x78, 0xbb, 0, 0, 0, 1}},
		{"empty gzip", compress.Gzip, nil},
		{"brotli", compress.Unknown, []byte{1, 2, 3}},
	} {
		_, err := d.Decode(c.e, c.data, 1<<20, "response body")
		if err == nil || !transport.IsMalformed(err) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	// The decoder still works after failures.
	if got, err := d.Decode(compress.Gzip, gz, 1<<20, "response body"); err != nil || !bytes.Equal(got, body) {
		t.Errorf("after failures: %v", err)
	}
}
