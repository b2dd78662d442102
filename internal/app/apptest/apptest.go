// Package apptest builds an app.Service over a real SQLite store (in
// t.TempDir()), a file blob store and an SSRF-safe fetch client allowed to
// reach loopback, for the tests of app and httpapi. It runs no queue:
// Enqueue, CancelJob and Queue are nil, so a created task stays pending
// with job id 0 until the test itself moves it. It is imported only by
// tests.
package apptest

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/lepus-ai/lepus/internal/app"
	"github.com/lepus-ai/lepus/internal/blob"
	"github.com/lepus-ai/lepus/internal/config"
	"github.com/lepus-ai/lepus/internal/fetch"
	"github.com/lepus-ai/lepus/internal/sqlstore"
	"github.com/lepus-ai/lepus/internal/sqlstore/sqlstoretest"
	"github.com/lepus-ai/lepus/internal/workflow"
)

// PublicURL is the base of the service's upload and asset URLs.
const PublicURL = "http://lepus.test"

// Grant is every new user's starting balance unless a test changes
// Service.Grant before its first create.
const Grant = 100

// Bundle is a service and what it stands on.
type Bundle struct {
	// Service may be adjusted (Grant, MaxInFlight, Store wrapped in a
	// fault injector) before the test first uses it.
	Service *app.Service
	Store   *sqlstore.Store

	files *httptest.Server
	mu    sync.Mutex
	data  map[string][]byte
}

// New returns a service on a fresh SQLite store, with the default costs
// and every workflow.
func New(t testing.TB) *Bundle {
	t.Helper()
	store, _ := sqlstoretest.Open(t, sqlstore.DialectSQLite)
	bucket, err := blob.Open(context.Background(), "file://"+filepath.ToSlash(filepath.Join(t.TempDir(), "blobs")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = bucket.Close() })
	b := &Bundle{Store: store, data: map[string][]byte{}}
	b.Service = &app.Service{
		Store: store, Workflows: workflow.NewRegistry(0), Blob: bucket,
		Fetch: fetch.New(fetch.Config{AllowPrivate: true, Timeout: time.Minute}),
		Costs: config.DefaultCosts(), Grant: Grant, PublicURL: PublicURL, Mode: "sandbox",
		Hub: app.NewHub(), Now: time.Now, Logger: slog.New(slog.DiscardHandler),
	}
	b.files = httptest.NewServer(http.HandlerFunc(b.serve))
	t.Cleanup(b.files.Close)
	return b
}

// ServeFile serves data at a new URL on a loopback server and returns the
// URL; the content type is sniffed from the data, as a careless web server
// would. Anything else on that server is a 404.
func (b *Bundle) ServeFile(data []byte) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	p := "/file/" + strconv.Itoa(len(b.data))
	b.data[p] = data
	return b.files.URL + p
}

// MissingURL is a URL on the file server that answers 404.
func (b *Bundle) MissingURL() string { return b.files.URL + "/missing" }

func (b *Bundle) serve(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	data, ok := b.data[r.URL.Path]
	b.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(data))
}

// Balance is a user's balance, failing t on error.
func (b *Bundle) Balance(t testing.TB, userID string) int {
	t.Helper()
	n, err := b.Service.Balance(context.Background(), userID)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
