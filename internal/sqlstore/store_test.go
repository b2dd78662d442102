package sqlstore_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/lepus-ai/lepus/internal/lepus"
	"github.com/lepus-ai/lepus/internal/sqlstore"
	"github.com/lepus-ai/lepus/internal/sqlstore/sqlstoretest"
)

func TestStore_SQLite(t *testing.T) {
	t.Parallel()
	runStoreSuite(t, sqlstore.DialectSQLite)
}

// TestStore_Postgres runs the suite when LEPUS_TEST_DATABASE_URL is set; an
// unreachable database then fails the test rather than skipping it.
func TestStore_Postgres(t *testing.T) {
	if os.Getenv(sqlstoretest.EnvDatabaseURL) == "" {
		t.Skipf("set %s (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable) to run", sqlstoretest.EnvDatabaseURL)
	}
	t.Parallel()
	runStoreSuite(t, sqlstore.DialectPostgres)
}

// suite is what every conformance test gets: the dialect under test.
type suite struct{ dialect string }

// open returns a fresh migrated store whose clock starts at t0 and advances
// step per reading.
func (su suite) open(t *testing.T, step time.Duration) (*sqlstore.Store, *fakeClock) {
	t.Helper()
	c := &fakeClock{t: t0, step: step}
	s, _ := sqlstoretest.OpenWith(t, su.dialect, sqlstore.Options{Now: c.Now})
	return s, c
}

// freshDSN names an empty database of the dialect, not yet migrated.
func (su suite) freshDSN(t *testing.T) string {
	t.Helper()
	if su.dialect == sqlstore.DialectPostgres {
		return sqlstoretest.PostgresSchema(t)
	}
	return filepath.Join(t.TempDir(), "fresh.db")
}

// runStoreSuite is the conformance suite every dialect must pass.
func runStoreSuite(t *testing.T, dialect string) {
	su := suite{dialect: dialect}
	t.Run("Migrate", su.testMigrate)
	t.Run("TaskCreate", su.testTaskCreate)
	t.Run("GroupCommit", su.testGroupCommit)
	t.Run("CreateConcurrent", su.testCreateConcurrent)
	t.Run("CreateLockOrder", su.testCreateLockOrder)
	t.Run("TaskInFlight", su.testTaskInFlight)
	t.Run("InFlightIndex", su.testInFlightIndex)
	t.Run("IdempotencyIndex", su.testIdempotencyIndex)
	t.Run("TaskGet", su.testTaskGet)
	t.Run("TaskSave", su.testTaskSave)
	t.Run("TaskFinish", su.testTaskFinish)
	t.Run("TaskList", su.testTaskList)
	t.Run("Asset", su.testAsset)
	t.Run("Upload", su.testUpload)
	t.Run("Credit", su.testCredit)
	t.Run("Slot", su.testSlot)
	t.Run("Avatar", su.testAvatar)
	t.Run("Webhook", su.testWebhook)
	t.Run("Wait", su.testWait)
}

func (su suite) testMigrate(t *testing.T) {
	t.Parallel()
	t.Run("Idempotent", func(t *testing.T) {
		t.Parallel()
		s, _ := su.open(t, 0)
		if got := s.Dialect(); got != su.dialect {
			t.Fatalf("Dialect() = %q, want %q", got, su.dialect)
		}
		if err := s.Migrate(context.Background()); err != nil {
			t.Fatalf("second Migrate: %v", err)
		}
		if n := countRows(t, s.DB(), `SELECT count(*) FROM lepus_migration WHERE version = 1`); n != 1 {
			t.Fatalf("lepus_migration has %d rows for version 1, want 1", n)
		}
	})
	t.Run("Concurrent", func(t *testing.T) {
		t.Parallel()
		dsn := su.freshDSN(t)
		ctx := context.Background()
		stores := make([]*sqlstore.Store, 4)
		for i := range stores {
			s, err := sqlstore.Open(ctx, dsn, sqlstore.Options{})
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			t.Cleanup(func() { _ = s.Close() })
			stores[i] = s
		}
		var wg sync.WaitGroup
		errs := make([]error, len(stores))
		for i, s := range stores {
			wg.Go(func() { errs[i] = s.Migrate(ctx) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("migrator %d: %v", i, err)
			}
		}
		files, err := os.ReadDir(filepath.Join("migration", stores[0].Dialect()))
		if err != nil {
			t.Fatal(err)
		}
		if n := countRows(t, stores[0].DB(), `SELECT count(*) FROM lepus_migration`); n != len(files) {
			t.Fatalf("lepus_migration has %d rows, want one per migration file (%d)", n, len(files))
		}
		if _, err := stores[0].TaskGet(ctx, "missing"); lepus.ErrorCode(err) != lepus.ENotFound {
			t.Fatalf("TaskGet on migrated schema: %v, want not_found", err)
		}
	})
}

// t0 is the fake clock's start; its nanoseconds check that times are kept
// to the microsecond on both databases.
var t0 = time.Date(2026, 3, 4, 5, 6, 7, 123456789, time.UTC)

// fakeClock advances by step on every reading.
type fakeClock struct {
	mu   sync.Mutex
	t    time.Time
	step time.Duration
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.t
	c.t = c.t.Add(c.step)
	return now
}

// Set moves the clock to t.
func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func us(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func newTask(id, user string) *lepus.Task {
	return &lepus.Task{
		ID:            id,
		UserID:        user,
		Type:          "image",
		Input:         json.RawMessage(`{"prompt":"a hare","n":2}`),
		Stages:        []lepus.Stage{{Name: "image", Phase: lepus.PhaseSubmit, Provider: "kling", Endpoint: "/v1/images/omni-image"}},
		Notes:         []string{"accepted"},
		Cost:          10,
		CallbackToken: "cb_" + id,
		RequestHash:   "hash-1",
	}
}

// create runs TaskCreate with an Enqueue that returns jobID and must succeed.
func create(t *testing.T, s *sqlstore.Store, task *lepus.Task, grant int) *lepus.Task {
	t.Helper()
	got, created, err := s.TaskCreate(context.Background(), &lepus.TaskCreateParams{
		Task: task, Grant: grant,
		Enqueue: func(context.Context, *sql.Tx, *lepus.Task) (int64, error) { return 42, nil },
	})
	if err != nil {
		t.Fatalf("TaskCreate(%s): %v", task.ID, err)
	}
	if !created {
		t.Fatalf("TaskCreate(%s): created = false", task.ID)
	}
	return got
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := lepus.ErrorCode(err); got != code {
		t.Fatalf("error = %v (code %q), want code %q", err, got, code)
	}
}

func wantEnded(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, lepus.ErrTaskEnded) {
		t.Fatalf("error = %v, want ErrTaskEnded", err)
	}
}

func countRows(t *testing.T, db *sql.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// jsonEq reports whether a and b marshal to equal JSON values; Postgres
// jsonb normalizes spacing and key order.
func jsonEq(t *testing.T, a, b any) bool {
	t.Helper()
	norm := func(v any) string {
		raw, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		var x any
		if err := json.Unmarshal(raw, &x); err != nil {
			t.Fatalf("unmarshal: %v", err)
		}
		out, _ := json.Marshal(x)
		return string(out)
	}
	return bytes.Equal([]byte(norm(a)), []byte(norm(b)))
}

func ledgerKinds(t *testing.T, s *sqlstore.Store, user string) string {
	t.Helper()
	entries, err := s.CreditLedger(context.Background(), user, 0)
	if err != nil {
		t.Fatalf("CreditLedger: %v", err)
	}
	var b bytes.Buffer
	for i, e := range entries {
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "%s:%d", e.Kind, e.Amount)
	}
	return b.String()
}

func balance(t *testing.T, s *sqlstore.Store, user string, grant int) int {
	t.Helper()
	n, err := s.CreditBalance(context.Background(), user, grant)
	if err != nil {
		t.Fatalf("CreditBalance: %v", err)
	}
	return n
}
