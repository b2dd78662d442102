package cli

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
)

// TestSaveAssets_RefusesUnsafeIDs: an asset id becomes a file name under
// --out, so a server's id that is not a plain id ("../x", "/abs") is an
// error and nothing is downloaded or written; plain ids are saved.
func TestSaveAssets_RefusesUnsafeIDs(t *testing.T) {
	t.Parallel()
	var downloads atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		downloads.Add(1)
		_, _ = w.Write([]byte("png bytes"))
	}))
	t.Cleanup(srv.Close)
	c := newTestClient(t, srv.URL, "tok")
	root := t.TempDir()
	out := filepath.Join(root, "out")

	for _, id := range []string{"../escaped", "/tmp/abs", "a/b", "..", "x.y", ""} {
		task := &Task{ID: "tsk_1", Assets: []Asset{{ID: "ast_ok", Stored: true, Mime: "image/png"}, {ID: id, Stored: true, Mime: "image/png"}}}
		err := saveAssets(context.Background(), c, task, out, &bytes.Buffer{})
		if err == nil || ExitCode(err) != ExitServer {
			t.Fatalf("id %q: %v (exit %d), want a server error", id, err, ExitCode(err))
		}
	}
	if n := downloads.Load(); n != 0 {
		t.Fatalf("%d downloads despite an unsafe id", n)
	}
	if entries, _ := os.ReadDir(root); len(entries) != 0 {
		t.Fatalf("files written: %v", entries)
	}

	task := &Task{ID: "tsk_1", Assets: []Asset{{ID: "ast_A-1_b", Stored: true, Mime: "image/png"}}}
	if err := saveAssets(context.Background(), c, task, out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(out, "ast_A-1_b.png")); err != nil || string(b) != "png bytes" {
		t.Fatalf("saved file: %q, %v", b, err)
	}
}
