package http1

import (
	"bufio"
	"bytes"
	"fmt"
	"testing"
)

// pieceReader serves its bytes at most piece at a time, as a socket does,
// and counts the bytes it hands to reads of more than a read buffer's
// room: reads straight into the caller's body buffer, not through the
// connection's bufio.Reader.
type pieceReader struct {
	r      *bytes.Reader
	piece  int
	direct int
}

func (p *pieceReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b[:min(len(b), p.piece)])
	if len(b) > readBufferSize {
		p.direct += n
	}
	return n, err
}

// TestLargeBodyReadStraightIntoBuffer: a large body, by Content-Length or
// in large chunks, is read from the connection straight into the reused
// body buffer; only what the read buffer took with the header section
// and a last piece shorter than the read buffer (at most its size each,
// per chunk) are copied. That is what keeps binary tensors near
// the loopback ceiling (bench/README.md, "Big tensors").
func TestLargeBodyReadStraightIntoBuffer(t *testing.T) {
	body := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	chunked := fmt.Appendf(nil, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n", len(body)/2)
	chunked = append(chunked, body[:len(body)/2]...)
	chunked = fmt.Appendf(chunked, "\r\n%x\r\n", len(body)/2)
	chunked = append(chunked, body[len(body)/2:]...)
	chunked = append(chunked, "\r\n0\r\n\r\n"...)
	for _, tc := range []struct {
		name   string
		answer []byte
		copied int // at most this many bytes of the body through the read buffer
	}{
		{"content-length", append(fmt.Appendf(nil, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", len(body)), body...), 2 * readBufferSize},
		{"chunked", chunked, 4 * readBufferSize},
	} {
		for _, piece := range []int{1 << 30, 64 << 10, 1500} {
			t.Run(fmt.Sprintf("%s/reads of %d bytes", tc.name, min(piece, len(tc.answer))), func(t *testing.T) {
				buf := make([]byte, 0, len(body)) // reused, as a caller's
				for call := range 2 {
					pr := &pieceReader{r: bytes.NewReader(tc.answer), piece: piece}
					var res Response
					if err := readResponse(bufio.NewReaderSize(pr, readBufferSize), "POST", &res, &buf, 2<<20, ""); err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(res.Body, body) {
						t.Fatalf("call %d: a body of %d bytes, want the %d sent", call, len(res.Body), len(body))
					}
					if copied := len(body) - pr.direct; copied > tc.copied {
						t.Errorf("call %d: %d bytes of the %d-byte body went through the read buffer, want at most %d", call, copied, len(body), tc.copied)
					}
				}
			})
		}
	}
}
