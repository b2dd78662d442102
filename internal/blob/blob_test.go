package blob

import (
	"context"
	"errors"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// mustOpen opens bucketURL and closes it when the test ends.
func mustOpen(t *testing.T, bucketURL string) *Store {
	t.Helper()
	s, err := Open(context.Background(), bucketURL)
	if err != nil {
		t.Fatalf("open %s: %v", bucketURL, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

func mustPut(t *testing.T, s *Store, key, contentType, body string) {
	t.Helper()
	n, err := s.Put(context.Background(), key, contentType, strings.NewReader(body))
	if err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
	if n != int64(len(body)) {
		t.Fatalf("put %s wrote %d bytes, want %d", key, n, len(body))
	}
}

func mustRead(t *testing.T, s *Store, key string) (string, *Reader) {
	t.Helper()
	r, err := s.Open(context.Background(), key)
	if err != nil {
		t.Fatalf("open %s: %v", key, err)
	}
	t.Cleanup(func() { r.Close() })
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	return string(b), r
}

// failingReader yields some bytes and then an error, like a download that
// breaks halfway.
type failingReader struct{ sent bool }

var errBroken = errors.New("connection broken")

func (f *failingReader) Read(p []byte) (int, error) {
	if f.sent {
		return 0, errBroken
	}
	f.sent = true
	return copy(p, "partial"), nil
}

// exercise runs the behaviour every backend must share.
func exercise(t *testing.T, s *Store) {
	ctx := context.Background()

	t.Run("PutOpen", func(t *testing.T) {
		mustPut(t, s, "results/u1/t1/a-0.png", "image/png", "png-data")
		got, r := mustRead(t, s, "results/u1/t1/a-0.png")
		if got != "png-data" || r.Size() != 8 || r.ContentType() != "image/png" {
			t.Errorf("got %q size %d type %q", got, r.Size(), r.ContentType())
		}
		if r.ModTime().IsZero() {
			t.Error("ModTime is zero")
		}
	})

	t.Run("Overwrite", func(t *testing.T) {
		mustPut(t, s, "over.mp4", "video/mp4", "first version, longer")
		mustPut(t, s, "over.mp4", "video/mp4", "second")
		got, r := mustRead(t, s, "over.mp4")
		if got != "second" || r.Size() != 6 {
			t.Errorf("got %q size %d after overwrite", got, r.Size())
		}
	})

	t.Run("Seek", func(t *testing.T) {
		mustPut(t, s, "seek.bin", "application/octet-stream", "0123456789")
		r, err := s.Open(ctx, "seek.bin")
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		defer r.Close()
		var rs io.ReadSeekCloser = r
		if pos, err := rs.Seek(-3, io.SeekEnd); err != nil || pos != 7 {
			t.Fatalf("seek end: %d, %v", pos, err)
		}
		tail, _ := io.ReadAll(rs)
		if string(tail) != "789" {
			t.Errorf("tail = %q", tail)
		}
		if _, err := rs.Seek(2, io.SeekStart); err != nil {
			t.Fatalf("seek start: %v", err)
		}
		buf := make([]byte, 3)
		if _, err := io.ReadFull(rs, buf); err != nil || string(buf) != "234" {
			t.Errorf("read after seek = %q, %v", buf, err)
		}
	})

	t.Run("SniffedContentType", func(t *testing.T) {
		mustPut(t, s, "page", "", "<html><body>hi</body></html>")
		_, r := mustRead(t, s, "page")
		// File buckets keep no type; the others sniff text/html at write.
		if ct := r.ContentType(); ct != "text/html; charset=utf-8" && ct != "application/octet-stream" {
			t.Errorf("content type = %q", ct)
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := s.Open(ctx, "missing/key.png")
		if !errors.Is(err, ErrNotFound) {
			t.Fatalf("err = %v, want ErrNotFound", err)
		}
		ok, err := s.Exists(ctx, "missing/key.png")
		if err != nil || ok {
			t.Errorf("Exists = %v, %v", ok, err)
		}
	})

	t.Run("ExistsDelete", func(t *testing.T) {
		mustPut(t, s, "del/x.png", "image/png", "x")
		if ok, err := s.Exists(ctx, "del/x.png"); err != nil || !ok {
			t.Fatalf("Exists before delete = %v, %v", ok, err)
		}
		if err := s.Delete(ctx, "del/x.png"); err != nil {
			t.Fatalf("delete: %v", err)
		}
		if ok, err := s.Exists(ctx, "del/x.png"); err != nil || ok {
			t.Errorf("Exists after delete = %v, %v", ok, err)
		}
		if err := s.Delete(ctx, "del/x.png"); err != nil {
			t.Errorf("second delete: %v", err)
		}
	})

	t.Run("AbortKeepsOldContent", func(t *testing.T) {
		mustPut(t, s, "abort.png", "image/png", "good")
		_, err := s.Put(ctx, "abort.png", "image/png", &failingReader{})
		if !errors.Is(err, errBroken) {
			t.Fatalf("err = %v, want the reader's error", err)
		}
		if got, _ := mustRead(t, s, "abort.png"); got != "good" {
			t.Errorf("after failed put got %q, want the old content", got)
		}
		_, err = s.Put(ctx, "aborted-new.png", "image/png", &failingReader{})
		if err == nil {
			t.Fatal("failed put returned no error")
		}
		if ok, _ := s.Exists(ctx, "aborted-new.png"); ok {
			t.Error("failed put left an object behind")
		}
	})

	t.Run("ErrEmptyKey", func(t *testing.T) {
		if _, err := s.Put(ctx, "", "image/png", strings.NewReader("x")); err == nil {
			t.Error("empty key accepted")
		}
	})
}

func TestStore_File(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "not", "yet", "there")
	s := mustOpen(t, "file://"+dir)
	exercise(t, s)

	t.Run("NoSidecarsOrTempFiles", func(t *testing.T) {
		err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if strings.HasSuffix(p, ".attrs") || strings.HasSuffix(p, ".tmp") {
				t.Errorf("unexpected file %s", p)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(dir, "results", "u1", "t1", "a-0.png"))
		if err != nil || string(b) != "png-data" {
			t.Errorf("file on disk = %q, %v", b, err)
		}
	})

	t.Run("KeyCannotEscapeDir", func(t *testing.T) {
		mustPut(t, s, "../escape.png", "image/png", "x")
		if _, err := os.Stat(filepath.Join(filepath.Dir(dir), "escape.png")); !os.IsNotExist(err) {
			t.Errorf("key escaped the bucket directory: %v", err)
		}
	})
}

func TestStore_Mem(t *testing.T) {
	t.Parallel()
	exercise(t, mustOpen(t, "mem://"))
}

func TestOpen_Err(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"gs://bucket", "file://", "::bad", "mem://?bogus=1"} {
		if s, err := Open(context.Background(), u); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", u)
		}
	}
}

func TestWithDefaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want map[string]string
	}{
		{"File", "file:///data/blobs", map[string]string{"create_dir": "true", "metadata": "skip", "no_tmp_dir": "true"}},
		{"FileKeepsSidecars", "file:///data/blobs?metadata=", map[string]string{"metadata": ""}},
		{"S3", "s3://b?endpoint=http://minio:9000&use_path_style=true", map[string]string{
			"request_checksum_calculation": "when_required",
			"response_checksum_validation": "when_required",
			"endpoint":                     "http://minio:9000",
			"use_path_style":               "true",
		}},
		{"S3Explicit", "s3://b?request_checksum_calculation=when_supported", map[string]string{
			"request_checksum_calculation": "when_supported",
			"response_checksum_validation": "when_required",
		}},
		{"Mem", "mem://", map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := withDefaults(tt.in)
			if err != nil {
				t.Fatalf("withDefaults: %v", err)
			}
			u, err := url.Parse(got)
			if err != nil {
				t.Fatalf("parse %q: %v", got, err)
			}
			q := u.Query()
			for k, v := range tt.want {
				if !q.Has(k) || q.Get(k) != v {
					t.Errorf("%s: %s = %q (present %v), want %q", got, k, q.Get(k), q.Has(k), v)
				}
			}
			if tt.name == "Mem" && u.RawQuery != "" {
				t.Errorf("mem URL gained a query: %q", got)
			}
		})
	}
}

func TestTypeByKey(t *testing.T) {
	t.Parallel()
	for key, want := range map[string]string{
		"a/b.MP4":  "video/mp4",
		"x.jpeg":   "image/jpeg",
		"x.webp":   "image/webp",
		"noext":    "application/octet-stream",
		"x.unknwn": "application/octet-stream",
	} {
		if got := typeByKey(key, ""); got != want {
			t.Errorf("typeByKey(%q) = %q, want %q", key, got, want)
		}
	}
}
