package httpapi

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/lepus-ai/lepus/internal/app"
	"github.com/lepus-ai/lepus/internal/blob"
	"github.com/lepus-ai/lepus/internal/sqlstore"
	"github.com/lepus-ai/lepus/internal/sqlstore/sqlstoretest"
	"github.com/lepus-ai/lepus/internal/testutil/tcpproxy"
)

// readyProblem is the part of a /readyz 503 the tests look at.
type readyProblem struct {
	Status int
	Detail string
	Errors []struct{ Location, Message string }
}

// getReady GETs /readyz and decodes the answer: the status, and the
// failing parts' locations (nil when ready).
func getReady(t *testing.T, b *testBundle) (int, []string, readyProblem) {
	t.Helper()
	resp, err := http.Get(b.srv.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var p readyProblem
	if resp.StatusCode == http.StatusOK {
		var ok struct{ Status, Database, Storage, Migrations string }
		if err := json.Unmarshal(body, &ok); err != nil || ok.Status != "ready" || ok.Database != "ok" || ok.Storage != "ok" || ok.Migrations != "ok" {
			t.Fatalf("readyz 200 body %s", body)
		}
		return resp.StatusCode, nil, p
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("readyz %d Content-Type %q, want application/problem+json", resp.StatusCode, ct)
	}
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("readyz %d body %s: %v", resp.StatusCode, body, err)
	}
	var parts []string
	for _, e := range p.Errors {
		parts = append(parts, e.Location)
		if !strings.Contains(p.Detail, e.Location) {
			t.Errorf("detail %q does not name %s", p.Detail, e.Location)
		}
	}
	return resp.StatusCode, parts, p
}

func getLive(t *testing.T, b *testBundle) int {
	t.Helper()
	resp, err := http.Get(b.srv.URL + "/livez")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// fileBucket opens a file bucket in a fresh directory.
func fileBucket(t *testing.T) *blob.Store {
	t.Helper()
	b, err := blob.Open(context.Background(), "file://"+filepath.ToSlash(filepath.Join(t.TempDir(), "blobs")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func wantParts(t *testing.T, what string, status int, parts []string, want ...string) {
	t.Helper()
	if len(want) == 0 {
		if status != http.StatusOK {
			t.Fatalf("%s: readyz %d failing %v, want 200", what, status, parts)
		}
		return
	}
	if status != http.StatusServiceUnavailable || strings.Join(parts, ",") != strings.Join(want, ",") {
		t.Fatalf("%s: readyz %d failing %v, want 503 naming %v", what, status, parts, want)
	}
}

func TestReadyz(t *testing.T) {
	t.Parallel()

	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		store, _ := sqlstoretest.Open(t, sqlstore.DialectSQLite)
		bucket := fileBucket(t)
		b := setup(t, Deps{App: &app.Service{Store: store, Blob: bucket}})
		status, parts, _ := getReady(t, b)
		wantParts(t, "all up", status, parts)
		if s := getLive(t, b); s != http.StatusOK {
			t.Fatalf("livez %d", s)
		}
	})

	t.Run("ErrDatabaseClosed", func(t *testing.T) {
		t.Parallel()
		store, _ := sqlstoretest.Open(t, sqlstore.DialectSQLite)
		bucket := fileBucket(t)
		b := setup(t, Deps{App: &app.Service{Store: store, Blob: bucket}})
		_ = store.Close()
		status, parts, p := getReady(t, b)
		wantParts(t, "database closed", status, parts, "database")
		if p.Errors[0].Message != "unreachable" || strings.Contains(p.Detail, "sql:") {
			t.Errorf("problem %+v: want the part named, the driver's error left out", p)
		}
		if s := getLive(t, b); s != http.StatusOK {
			t.Fatalf("livez %d with the database down, want 200", s)
		}
	})

	// The bucket is an S3 endpoint (a fake at the network boundary) that
	// answers a listing, then refuses every request.
	t.Run("ErrStorage", func(t *testing.T) {
		t.Parallel()
		var down atomic.Bool
		s3 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/xml")
			if down.Load() {
				w.WriteHeader(http.StatusForbidden)
				_, _ = io.WriteString(w, `<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>`)
				return
			}
			_, _ = io.WriteString(w, `<ListBucketResult><Name>lepus</Name><KeyCount>0</KeyCount><MaxKeys>1</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>`)
		}))
		t.Cleanup(s3.Close)
		bucket, err := blob.Open(context.Background(), "s3://lepus?region=us-east-1&anonymous=true&use_path_style=true&endpoint="+url.QueryEscape(s3.URL))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = bucket.Close() })
		store, _ := sqlstoretest.Open(t, sqlstore.DialectSQLite)
		b := setup(t, Deps{App: &app.Service{Store: store, Blob: bucket}})
		status, parts, _ := getReady(t, b)
		wantParts(t, "bucket answers", status, parts)
		down.Store(true)
		status, parts, p := getReady(t, b)
		wantParts(t, "bucket refuses", status, parts, "storage")
		if strings.Contains(p.Detail, "127.0.0.1") || strings.Contains(p.Detail, "AccessDenied") {
			t.Errorf("detail %q shows the S3 client's error", p.Detail)
		}
	})

	t.Run("ErrMigrations", func(t *testing.T) {
		t.Parallel()
		store, err := sqlstore.Open(context.Background(), filepath.Join(t.TempDir(), "lepus.db"), sqlstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = store.Close() })
		b := setup(t, Deps{App: &app.Service{Store: store}})
		status, parts, _ := getReady(t, b)
		wantParts(t, "never migrated", status, parts, "migrations")
		if err := store.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		status, parts, _ = getReady(t, b)
		wantParts(t, "migrated", status, parts)
	})

	t.Run("ErrMigratedFunc", func(t *testing.T) {
		t.Parallel()
		store, _ := sqlstoretest.Open(t, sqlstore.DialectSQLite)
		b := setup(t, Deps{App: &app.Service{Store: store}, Migrated: func(context.Context) error {
			return io.ErrUnexpectedEOF // e.g. River's tables are behind
		}})
		status, parts, _ := getReady(t, b)
		wantParts(t, "queue tables behind", status, parts, "migrations")
	})

	// Postgres behind a proxy that cuts the line: 503 naming the database
	// while it is cut, 200 once it is back.
	t.Run("ErrPostgresCut", func(t *testing.T) {
		t.Parallel()
		dsn := sqlstoretest.PostgresSchema(t) // skips without LEPUS_TEST_DATABASE_URL
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatal(err)
		}
		proxy, err := tcpproxy.Listen(u.Host)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = proxy.Close() })
		u.Host = proxy.Addr()
		ctx := context.Background()
		store, err := sqlstore.Open(ctx, u.String(), sqlstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = store.Close() })
		if err := store.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		bucket := fileBucket(t)
		b := setup(t, Deps{App: &app.Service{Store: store, Blob: bucket}})
		status, parts, _ := getReady(t, b)
		wantParts(t, "postgres up", status, parts)

		proxy.Cut()
		status, parts, _ = getReady(t, b)
		wantParts(t, "postgres cut", status, parts, "database")

		proxy.Restore()
		status, parts, _ = getReady(t, b)
		wantParts(t, "postgres back", status, parts)
	})
}
