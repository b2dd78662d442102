package blob

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/lepus-ai/lepus/internal/lepus"
	"github.com/lepus-ai/lepus/internal/media"
	"github.com/lepus-ai/lepus/internal/media/synth"
	"github.com/lepus-ai/lepus/internal/sample"
	"github.com/lepus-ai/lepus/internal/testutil/s3rver"
)

// TestStore_S3rver runs the shared backend behaviour, the MP4 header reads
// and an outage against s3rver, a real S3 server in its own process: unlike
// the in-process gofakes3 it refuses a range that starts at the end of an
// object (416 InvalidRange), as AWS, MinIO and versitygw do. Not parallel:
// s3rver.Start sets the AWS environment variables.
func TestStore_S3rver(t *testing.T) {
	srv := s3rver.Start(t, "lepus") // skips without LEPUS_TEST_S3RVER
	s := mustOpen(t, srv.BucketURL("lepus"))
	exercise(t, s)
	ctx := context.Background()

	t.Run("MP4Header", func(t *testing.T) {
		var buf bytes.Buffer
		img := sample.Portrait(sample.Palettes[0], 320, 480)
		if err := synth.WriteMP4(&buf, img, 1.5, synth.MP4Options{MaxSide: 320}); err != nil {
			t.Fatal(err)
		}
		const key = "results/u1/t1/video-0.mp4"
		if _, err := s.Put(ctx, key, "video/mp4", &buf); err != nil {
			t.Fatalf("put: %v", err)
		}
		r, err := s.Open(ctx, key)
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		defer r.Close()
		w, h, err := media.MP4VideoSize(r)
		if err != nil || w != 208 || h != 320 {
			t.Errorf("MP4VideoSize = %dx%d, %v; want 208x320", w, h, err)
		}
		d, err := media.MP4Duration(r)
		if err != nil || math.Abs(d-1.5) > 0.01 {
			t.Errorf("MP4Duration = %v, %v; want 1.5", d, err)
		}
	})

	t.Run("ReadAtEnd", func(t *testing.T) {
		// A file answers io.EOF at and past its end; so must an S3 object.
		mustPut(t, s, "end.bin", "application/octet-stream", "0123456789")
		r, err := s.Open(ctx, "end.bin")
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		defer r.Close()
		buf := make([]byte, 4)
		for _, off := range []int64{10, 11, 1 << 20} {
			if pos, err := r.Seek(off, io.SeekStart); err != nil || pos != off {
				t.Fatalf("seek %d = %d, %v", off, pos, err)
			}
			if n, err := r.Read(buf); n != 0 || err != io.EOF {
				t.Errorf("read at %d = %d, %v; want 0, io.EOF", off, n, err)
			}
		}
		if _, err := r.Seek(-2, io.SeekEnd); err != nil {
			t.Fatal(err)
		}
		if b, err := io.ReadAll(r); err != nil || string(b) != "89" {
			t.Errorf("read after seeking back = %q, %v", b, err)
		}
		if _, err := r.Seek(-1, io.SeekStart); err == nil {
			t.Error("seek before the start succeeded")
		}

		// Replaced by a shorter object while open: S3 answers 416, which
		// is this reader's end too.
		mustPut(t, s, "end.bin", "application/octet-stream", "012")
		if _, err := r.Seek(5, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		if n, err := r.Read(buf); n != 0 || err != io.EOF {
			t.Errorf("read past the new end = %d, %v; want 0, io.EOF", n, err)
		}
	})

	t.Run("Ping", func(t *testing.T) {
		if err := s.Ping(ctx); err != nil {
			t.Errorf("ping: %v", err)
		}
		missing := mustOpen(t, srv.BucketURL("no-such-bucket"))
		if err := missing.Ping(ctx); err == nil {
			t.Error("ping of a missing bucket succeeded")
		}
	})

	// Last: it stops the server.
	t.Run("ErrUnavailable", func(t *testing.T) {
		mustPut(t, s, "before.png", "image/png", "x")
		srv.Stop()
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if err := s.Ping(pctx); lepus.ErrorCode(err) != lepus.EUnavailable {
			t.Errorf("ping with the server down = %v (%s), want %s", err, lepus.ErrorCode(err), lepus.EUnavailable)
		}
		_, err := s.Put(ctx, "after.png", "image/png", strings.NewReader("x"))
		checkUnavailable(t, "put", err)
		_, err = s.Open(ctx, "before.png")
		checkUnavailable(t, "open", err)
		_, err = s.Exists(ctx, "before.png")
		checkUnavailable(t, "exists", err)
		checkUnavailable(t, "delete", s.Delete(ctx, "before.png"))
	})
}

func checkUnavailable(t *testing.T, op string, err error) {
	t.Helper()
	var le *lepus.Error
	if !errors.As(err, &le) || le.Code != lepus.EUnavailable {
		t.Errorf("%s with the server down = %v, want a lepus.Error of kind %s", op, err, lepus.EUnavailable)
		return
	}
	if strings.Contains(le.Message, "127.0.0.1") {
		t.Errorf("%s: client message %q shows the address", op, le.Message)
	}
}
