// Package s3rver runs s3rver, an S3-compatible server from npm, as a real
// separate process for tests: an HTTP S3 implementation that is not ours and
// not in-process, so range requests, errors and a dead endpoint behave as
// they do against a deployed store.
//
// The binary comes from LEPUS_TEST_S3RVER (set by .ci/run after
// `npm install s3rver`). Without it, Start skips the test with a message
// saying how to get it; with it, any failure to start fails the test.
package s3rver

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// EnvVar names the path of the s3rver executable.
const EnvVar = "LEPUS_TEST_S3RVER"

// Credentials s3rver accepts out of the box.
const (
	AccessKey = "S3RVER"
	SecretKey = "S3RVER"
)

// Server is one running s3rver process.
type Server struct {
	// URL is the server's endpoint, like http://127.0.0.1:40123.
	URL string

	cmd      *exec.Cmd
	exited   chan struct{}
	stopOnce sync.Once
	out      *syncBuffer
}

// Start runs s3rver on 127.0.0.1 at a free port with its data in a temporary
// directory and the given buckets created, and stops it when the test ends.
// It also points the AWS SDK at s3rver's credentials through t.Setenv, so
// tests that call it cannot be parallel.
func Start(t testing.TB, buckets ...string) *Server {
	t.Helper()
	bin := os.Getenv(EnvVar)
	if bin == "" {
		t.Skipf("%s is not set: install s3rver (npm install --prefix ~/.cache/lepus-s3rver s3rver) and set it to the s3rver executable; .ci/run does both", EnvVar)
	}
	dir := t.TempDir()
	args := []string{"--directory", filepath.Join(dir, "data"), "--address", "127.0.0.1", "--port", "0"}
	for _, b := range buckets {
		args = append(args, "--configure-bucket", b)
	}
	if err := os.Mkdir(filepath.Join(dir, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	// s3rver encrypts list continuation tokens with DES, which Node 17+
	// (OpenSSL 3) only offers through its legacy provider; without it any
	// list that is cut short answers 500.
	cmd.Env = append(os.Environ(), "NODE_OPTIONS=--openssl-legacy-provider")
	s := &Server{cmd: cmd, exited: make(chan struct{}), out: &syncBuffer{addr: make(chan string, 1)}}
	cmd.Stdout, cmd.Stderr = s.out, s.out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start s3rver (%s=%s): %v", EnvVar, bin, err)
	}
	go func() {
		_ = cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			t.Logf("s3rver output:\n%s", s.out.String())
		}
	})
	select {
	case a := <-s.out.addr:
		s.URL = "http://" + a
	case <-s.exited:
		t.Fatalf("s3rver exited before listening:\n%s", s.out.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("s3rver did not start within 30s:\n%s", s.out.String())
	}

	// s3rver's credentials, and keep the developer's ~/.aws files and the
	// EC2 metadata service out.
	t.Setenv("AWS_ACCESS_KEY_ID", AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", SecretKey)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	return s
}

// BucketURL is the Lepus blob URL (LEPUS_BLOB_URL) of bucket on this server.
func (s *Server) BucketURL(bucket string) string {
	return fmt.Sprintf("s3://%s?endpoint=%s&use_path_style=true&region=us-east-1&disable_https=true", bucket, s.URL)
}

// Stop kills the server and waits until it has exited, so its port refuses
// connections from then on. It is safe to call twice.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		_ = s.cmd.Process.Kill()
		<-s.exited
	})
}

// syncBuffer collects the server's output for failure messages, and sends
// the address from s3rver's "S3rver listening on 127.0.0.1:PORT" line on
// addr once that whole line has been written.
type syncBuffer struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	addr  chan string
	found bool
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.buf.Write(p)
	if !b.found {
		lines := strings.Split(b.buf.String(), "\n")
		for _, line := range lines[:len(lines)-1] { // whole lines only
			if a, ok := strings.CutPrefix(line, "S3rver listening on "); ok {
				b.found = true
				b.addr <- strings.TrimSpace(a)
				break
			}
		}
	}
	return n, err
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
