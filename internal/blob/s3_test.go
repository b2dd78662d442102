package blob

import (
	"context"
	"crypto/sha256"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// s3Recorder notes what the fake S3 server saw, to check that uploads were
// multipart and carried no checksums (headers or trailers).
type s3Recorder struct {
	mu        sync.Mutex
	parts     int
	checksums []string
}

func (rec *s3Recorder) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.mu.Lock()
		if r.Method == http.MethodPut && r.URL.Query().Has("partNumber") {
			rec.parts++
		}
		for name := range r.Header {
			if strings.HasPrefix(name, "X-Amz-Checksum-") || name == "X-Amz-Sdk-Checksum-Algorithm" || name == "X-Amz-Trailer" {
				rec.checksums = append(rec.checksums, name)
			}
		}
		if strings.Contains(r.Header.Get("Content-Encoding"), "aws-chunked") {
			rec.checksums = append(rec.checksums, "Content-Encoding: aws-chunked")
		}
		rec.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

// newFakeS3 starts gofakes3 with bucket "lepus" and returns a bucket URL
// for it. It sets AWS environment variables, so its tests cannot be parallel.
func newFakeS3(t *testing.T) (string, *s3Recorder) {
	t.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket("lepus"); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	rec := &s3Recorder{}
	srv := httptest.NewServer(rec.wrap(gofakes3.New(backend).Server()))
	t.Cleanup(srv.Close)

	dir := t.TempDir()
	t.Setenv("AWS_ACCESS_KEY_ID", "test-access-key")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test-secret-key")
	t.Setenv("AWS_REGION", "us-east-1")
	// Keep the developer's ~/.aws files and the EC2 metadata service out.
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	return "s3://lepus?endpoint=" + srv.URL + "&use_path_style=true&region=us-east-1&disable_https=true", rec
}

// TestStore_S3 is not parallel because newFakeS3 uses t.Setenv.
func TestStore_S3(t *testing.T) {
	bucketURL, rec := newFakeS3(t)
	s := mustOpen(t, bucketURL)
	exercise(t, s)

	// s3blob's transfer manager sends bodies under 16 MiB as one PutObject
	// (buffering at most that much) and larger ones as 8 MiB parts.
	for _, tt := range []struct {
		name      string
		size      int64
		multipart bool
	}{
		{"Stream12MiB", 12 << 20, false},
		{"Multipart20MiB", 20 << 20, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec.mu.Lock()
			partsBefore := rec.parts
			rec.mu.Unlock()
			key := "big/" + tt.name + ".mp4"
			t.Cleanup(func() { _ = s.Delete(context.Background(), key) })

			src := io.LimitReader(rand.NewChaCha8([32]byte{1}), tt.size)
			want := sha256.New()
			n, err := s.Put(context.Background(), key, "video/mp4", io.TeeReader(src, want))
			if err != nil {
				t.Fatalf("put: %v", err)
			}
			if n != tt.size {
				t.Fatalf("put wrote %d bytes, want %d", n, tt.size)
			}
			r, err := s.Open(context.Background(), key)
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			defer r.Close()
			got := sha256.New()
			if _, err := io.Copy(got, r); err != nil {
				t.Fatalf("read: %v", err)
			}
			if string(got.Sum(nil)) != string(want.Sum(nil)) {
				t.Error("content differs after round trip")
			}
			if r.Size() != tt.size || r.ContentType() != "video/mp4" {
				t.Errorf("size %d type %q", r.Size(), r.ContentType())
			}
			rec.mu.Lock()
			parts := rec.parts - partsBefore
			rec.mu.Unlock()
			if tt.multipart && parts < 2 {
				t.Errorf("saw %d part uploads, want a multipart upload", parts)
			}
		})
	}

	t.Run("NoChecksums", func(t *testing.T) {
		// request_checksum_calculation=when_required must be in effect.
		rec.mu.Lock()
		defer rec.mu.Unlock()
		if len(rec.checksums) > 0 {
			t.Errorf("requests carried checksum headers %v; want none", rec.checksums)
		}
	})
}
