// Package blob stores result and upload files in object storage: a local
// directory, memory (tests), or any S3-compatible service, all chosen by URL.
package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/url"
	"path"
	"strings"
	"time"

	"gocloud.dev/blob"
	_ "gocloud.dev/blob/fileblob" // file:// buckets
	_ "gocloud.dev/blob/memblob"  // mem:// buckets
	_ "gocloud.dev/blob/s3blob"   // s3:// buckets
	"gocloud.dev/gcerrors"
)

// ErrNotFound is wrapped by errors for keys that do not exist, so callers
// can answer 404 instead of 500.
var ErrNotFound = errors.New("blob not found")

// Store is an open bucket. It is safe for concurrent use.
type Store struct {
	bucket *blob.Bucket
}

// Open opens the bucket at bucketURL: "file:///abs/dir", "mem://" or
// "s3://bucket?endpoint=...&region=...&use_path_style=true". Defaults that
// make each scheme work out of the box are added unless the URL sets them;
// see withDefaults.
func Open(ctx context.Context, bucketURL string) (*Store, error) {
	u, err := withDefaults(bucketURL)
	if err != nil {
		return nil, err
	}
	b, err := blob.OpenBucket(ctx, u)
	if err != nil {
		return nil, fmt.Errorf("blob: open bucket: %w", err)
	}
	return &Store{bucket: b}, nil
}

// withDefaults adds scheme-specific query parameters the URL does not set:
//
//   - file: create_dir (the data dir may be new), metadata=skip (no ".attrs"
//     sidecar next to every file; content types are then inferred from the
//     key's extension), and no_tmp_dir (write temp files beside the target,
//     because renaming from os.TempDir fails across mounts such as a Docker
//     volume).
//   - s3: request_checksum_calculation and response_checksum_validation set
//     to when_required, because many S3-compatible stores reject the
//     checksum trailers aws-sdk-go-v2 sends by default.
func withDefaults(bucketURL string) (string, error) {
	u, err := url.Parse(bucketURL)
	if err != nil {
		return "", fmt.Errorf("blob: parse bucket URL: %w", err)
	}
	var defaults map[string]string
	switch u.Scheme {
	case "file":
		if u.Path == "" {
			return "", errors.New(`blob: file bucket URL needs a directory, like "file:///var/lib/lepus/blobs"`)
		}
		defaults = map[string]string{"create_dir": "true", "metadata": "skip", "no_tmp_dir": "true"}
	case "s3":
		defaults = map[string]string{
			"request_checksum_calculation": "when_required",
			"response_checksum_validation": "when_required",
		}
	case "mem":
	default:
		return "", fmt.Errorf("blob: unsupported bucket URL scheme %q (want file, mem or s3)", u.Scheme)
	}
	q := u.Query()
	for k, v := range defaults {
		if !q.Has(k) {
			q.Set(k, v)
		}
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// Put streams r into key, replacing any existing object, and returns the
// number of bytes written. If r fails, the write is aborted, so a partial
// file never replaces a good one. An empty contentType is sniffed from the
// first bytes.
func (s *Store) Put(ctx context.Context, key, contentType string, r io.Reader) (int64, error) {
	if key == "" {
		return 0, errors.New("blob: put: empty key")
	}
	// Cancelling the writer's context is how gocloud aborts a write.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := s.bucket.NewWriter(wctx, key, &blob.WriterOptions{ContentType: contentType})
	if err != nil {
		return 0, opError("put", key, err)
	}
	src := &sourceReader{r: r}
	n, err := io.Copy(w, src)
	if err != nil {
		cancel()
		_ = w.Close()
		if src.err != nil {
			// The caller's reader failed (a provider download, a client
			// upload): that says nothing about storage.
			return 0, fmt.Errorf("blob: put %s: %w", key, err)
		}
		return 0, opError("put", key, err)
	}
	if err := w.Close(); err != nil {
		return 0, opError("put", key, err)
	}
	return n, nil
}

// sourceReader remembers its reader's error, so Put can tell a failing
// source from failing storage.
type sourceReader struct {
	r   io.Reader
	err error
}

func (s *sourceReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF {
		s.err = err
	}
	return n, err
}

// Open returns a reader for key; missing keys give an error wrapping
// ErrNotFound. The reader uses ctx for its later reads, so ctx must stay
// alive until the reader is closed.
func (s *Store) Open(ctx context.Context, key string) (*Reader, error) {
	r, err := s.bucket.NewReader(ctx, key, nil)
	if err != nil {
		return nil, opError("open", key, err)
	}
	ct := r.ContentType()
	if ct == "" || ct == "application/octet-stream" {
		ct = typeByKey(key, ct)
	}
	return &Reader{r: r, contentType: ct}, nil
}

// Exists reports whether key exists.
func (s *Store) Exists(ctx context.Context, key string) (bool, error) {
	ok, err := s.bucket.Exists(ctx, key)
	if err != nil {
		return false, opError("exists", key, err)
	}
	return ok, nil
}

// Delete removes key. Deleting a missing key is not an error, so cleanups
// can be retried after a partial failure.
func (s *Store) Delete(ctx context.Context, key string) error {
	err := s.bucket.Delete(ctx, key)
	if err != nil && gcerrors.Code(err) != gcerrors.NotFound {
		return opError("delete", key, err)
	}
	return nil
}

// Ping checks that the bucket exists and answers, for health checks. It
// lists at most one key, so it is cheap on every backend; callers bound it
// with a short timeout, because the SDK retries a refused connection.
func (s *Store) Ping(ctx context.Context) error {
	ok, err := s.bucket.IsAccessible(ctx)
	if err != nil {
		return opError("ping", "bucket", err)
	}
	if !ok {
		return errors.New("blob: ping: the bucket does not exist")
	}
	return nil
}

// Close releases the bucket; readers and writers must be closed first.
func (s *Store) Close() error {
	if err := s.bucket.Close(); err != nil {
		return fmt.Errorf("blob: close: %w", err)
	}
	return nil
}

// Reader streams one object. It is an io.ReadSeekCloser, so it can be
// handed to http.ServeContent for range requests, and it behaves like a
// file on every backend: reading at or past the end gives io.EOF.
//
// That needs care on S3: gocloud reopens the object after a Seek with the
// range "bytes=<offset>-", and S3 servers answer a range that starts at the
// end with 416 InvalidRange (a local file just says EOF). MP4 box parsers
// seek past the last box and then read, so every video on AWS, MinIO,
// versitygw or s3rver measured 0x0. Reader therefore tracks the position
// itself and never asks storage for bytes at or after the size it learnt
// when it opened the object.
type Reader struct {
	r           *blob.Reader
	contentType string
	pos         int64 // the read position; it may lie past the end, as in a file
}

var _ io.ReadSeekCloser = (*Reader)(nil)

func (r *Reader) Read(p []byte) (int, error) {
	if r.pos >= r.r.Size() {
		return 0, io.EOF
	}
	n, err := r.r.Read(p)
	r.pos += int64(n)
	if err != nil && rangeRefused(err) {
		// The object was replaced by a shorter one since it was opened:
		// from this reader's point of view it ended.
		return n, io.EOF
	}
	return n, err
}

// Seek moves the read position; the next Read reopens the object at it.
// Seeking past the end is allowed, and reads there return io.EOF.
func (r *Reader) Seek(offset int64, whence int) (int64, error) {
	var pos int64
	switch whence {
	case io.SeekStart:
		pos = offset
	case io.SeekCurrent:
		pos = r.pos + offset
	case io.SeekEnd:
		pos = r.r.Size() + offset
	default:
		return 0, fmt.Errorf("blob: seek: invalid whence %d", whence)
	}
	if pos < 0 {
		return 0, fmt.Errorf("blob: seek: negative position %d", pos)
	}
	// gocloud clamps an offset past the end itself, but logs each time.
	if _, err := r.r.Seek(min(pos, r.r.Size()), io.SeekStart); err != nil {
		return 0, fmt.Errorf("blob: seek: %w", err)
	}
	r.pos = pos
	return pos, nil
}

// Close releases the underlying connection or file.
func (r *Reader) Close() error { return r.r.Close() }

// ContentType is the stored MIME type, or one inferred from the key's
// extension when the store kept none (file buckets without sidecars).
func (r *Reader) ContentType() string { return r.contentType }

// Size is the object's length in bytes.
func (r *Reader) Size() int64 { return r.r.Size() }

// ModTime is when the object was last written, for Last-Modified headers.
func (r *Reader) ModTime() time.Time { return r.r.ModTime() }

// mediaTypes covers the extensions Lepus writes; mime.TypeByExtension
// alone depends on the host's mime.types and often lacks video types.
var mediaTypes = map[string]string{
	".png":  "image/png",
	".jpg":  "image/jpeg",
	".jpeg": "image/jpeg",
	".webp": "image/webp",
	".gif":  "image/gif",
	".mp4":  "video/mp4",
	".mov":  "video/quicktime",
	".webm": "video/webm",
}

// typeByKey infers a content type from key's extension, returning
// fallback (or application/octet-stream) when the extension is unknown.
func typeByKey(key, fallback string) string {
	ext := strings.ToLower(path.Ext(key))
	if t, ok := mediaTypes[ext]; ok {
		return t
	}
	if t := mime.TypeByExtension(ext); ext != "" && t != "" {
		return t
	}
	if fallback == "" {
		return "application/octet-stream"
	}
	return fallback
}
