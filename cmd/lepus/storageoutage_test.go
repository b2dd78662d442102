package main

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"

	"github.com/lepus-ai/lepus/internal/media/synth"
	"github.com/lepus-ai/lepus/internal/sample"
	"github.com/lepus-ai/lepus/internal/testutil/s3rver"
)

// TestServe_S3rverStorage runs `lepus serve` on s3rver, a real S3 server in
// its own process: an uploaded MP4 is measured from its header through S3
// range reads, and once the server is killed /healthz names storage as
// unreachable and uploads answer 503 problem+json with Retry-After, not
// 500. Not parallel: s3rver.Start sets the AWS environment variables.
func TestServe_S3rverStorage(t *testing.T) {
	srv := s3rver.Start(t, "lepus") // skips without LEPUS_TEST_S3RVER
	s := startServe(t, map[string]string{"LEPUS_BLOB_URL": srv.BucketURL("lepus")})
	tok := s.token(t, "olga")

	var mp4 bytes.Buffer
	img := sample.Portrait(sample.Palettes[0], 320, 480)
	if err := synth.WriteMP4(&mp4, img, 1.5, synth.MP4Options{MaxSide: 320}); err != nil {
		t.Fatal(err)
	}

	checkHealth(t, s, "ok", "ok")
	resp, up := s.upload(t, tok, mp4.Bytes())
	if resp.StatusCode != http.StatusCreated || up.Kind != "video" {
		t.Fatalf("upload: %d %+v", resp.StatusCode, up)
	}
	if up.Width != 208 || up.Height != 320 || math.Abs(up.DurationS-1.5) > 0.01 {
		t.Errorf("upload measured %dx%d %.3fs, want 208x320 1.5s", up.Width, up.Height, up.DurationS)
	}
	resp = s.do(t, http.MethodGet, "/uploads/"+up.ID, "", nil, nil, nil)
	if got, _ := io.ReadAll(resp.Body); resp.StatusCode != http.StatusOK || !bytes.Equal(got, mp4.Bytes()) {
		t.Errorf("download: %d, %d bytes, want the %d uploaded", resp.StatusCode, len(got), mp4.Len())
	}

	srv.Stop()
	checkHealth(t, s, "degraded", "unreachable")
	resp, _ = s.upload(t, tok, mp4.Bytes())
	checkStorageUnavailable(t, "video upload", resp)
	resp, _ = s.upload(t, tok, sample.PortraitPNG(sample.Palettes[1], 400, 500))
	checkStorageUnavailable(t, "image upload", resp)
	checkStorageUnavailable(t, "download", s.do(t, http.MethodGet, "/uploads/"+up.ID, "", nil, nil, nil))
}

func checkHealth(t *testing.T, s *lepusServer, status, storage string) {
	t.Helper()
	var h struct{ Status, Database, Storage string }
	resp := s.do(t, http.MethodGet, "/healthz", "", nil, nil, &h)
	if resp.StatusCode != http.StatusOK || h.Status != status || h.Storage != storage || h.Database != "ok" {
		t.Errorf("healthz: %d %+v, want status %q, storage %q, database ok", resp.StatusCode, h, status, storage)
	}
}

// checkStorageUnavailable wants 503 problem+json with Retry-After whose
// detail shows nothing of the S3 client's error.
func checkStorageUnavailable(t *testing.T, what string, resp *http.Response) {
	t.Helper()
	if resp.StatusCode != http.StatusServiceUnavailable {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("%s with storage down: %d %s, want 503", what, resp.StatusCode, body)
	}
	if resp.Header.Get("Retry-After") == "" {
		t.Errorf("%s: no Retry-After", what)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Errorf("%s: Content-Type %q, want application/problem+json", what, ct)
	}
	var p problemResp
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
		t.Fatalf("%s: decode problem: %v", what, err)
	}
	for _, leak := range []string{"127.0.0.1", "S3", "dial", "connect", "blob"} {
		if strings.Contains(p.Detail, leak) {
			t.Errorf("%s: detail %q leaks client text %q", what, p.Detail, leak)
		}
	}
}
