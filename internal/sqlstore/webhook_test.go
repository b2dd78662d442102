package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/lepus-ai/lepus/internal/lepus"
)

// hookRecorder is a webhook hook that records the events it is handed and
// writes a row in the event's transaction, to show it commits with it.
type hookRecorder struct {
	mu     sync.Mutex
	events []string // "type key"
	ids    []string
	fail   error
}

func (h *hookRecorder) hook(ctx context.Context, tx *sql.Tx, ev *lepus.WebhookEvent) error {
	if h.fail != nil {
		return h.fail
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_secret (user_id, secret, created_at, updated_at) VALUES ($1, 'x', $2, $2)`,
		"ev:"+ev.MessageID(), ev.At); err != nil { // SQLite keeps the time as text here: never read
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.events = append(h.events, ev.Type+" "+ev.Key)
	h.ids = append(h.ids, ev.MessageID())
	return nil
}

func (h *hookRecorder) got() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.events)
}

func (su suite) testWebhook(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("Secret", func(t *testing.T) {
		t.Parallel()
		s, _ := su.open(t, time.Millisecond)
		a, err := s.WebhookSecretGet(ctx, "u1", "whsec_first")
		if err != nil || a != "whsec_first" {
			t.Fatalf("first read = %q, %v; want the fresh secret stored", a, err)
		}
		if b, err := s.WebhookSecretGet(ctx, "u1", "whsec_other"); err != nil || b != a {
			t.Fatalf("second read = %q, %v; want %q", b, err, a)
		}
		if err := s.WebhookSecretSet(ctx, "u1", "whsec_rotated"); err != nil {
			t.Fatal(err)
		}
		if c, err := s.WebhookSecretGet(ctx, "u1", "whsec_other"); err != nil || c != "whsec_rotated" {
			t.Fatalf("after rotation = %q, %v", c, err)
		}
		if d, err := s.WebhookSecretGet(ctx, "u2", "whsec_u2"); err != nil || d != "whsec_u2" {
			t.Fatalf("another user = %q, %v", d, err)
		}
		wantCode(t, s.WebhookSecretSet(ctx, "", "x"), lepus.EInvalid)
	})

	t.Run("TaskFields", func(t *testing.T) {
		t.Parallel()
		s, _ := su.open(t, time.Millisecond)
		in := newTask("tsk_w", "u1")
		in.WebhookURL, in.WebhookEvents = "https://example.com/hook", []string{lepus.WebhookStart, lepus.WebhookCompleted}
		create(t, s, in, 100)
		create(t, s, newTask("tsk_plain", "u1"), 100)
		got, err := s.TaskGet(ctx, "tsk_w")
		if err != nil || got.WebhookURL != in.WebhookURL || !slices.Equal(got.WebhookEvents, in.WebhookEvents) || got.WebhookAttempts != nil {
			t.Fatalf("TaskGet = %+v, %v", got, err)
		}
		plain, err := s.TaskGet(ctx, "tsk_plain")
		if err != nil || plain.WebhookURL != "" || len(plain.WebhookEvents) != 0 {
			t.Fatalf("task without webhook = %q %v, %v", plain.WebhookURL, plain.WebhookEvents, err)
		}
	})

	t.Run("Events", func(t *testing.T) {
		t.Parallel()
		s, _ := su.open(t, time.Millisecond)
		rec := &hookRecorder{}
		s.SetWebhookHook(rec.hook)
		all := newTask("tsk_all", "u1")
		all.WebhookURL, all.WebhookEvents = "https://example.com/hook", lepus.WebhookEvents
		some := newTask("tsk_some", "u1")
		some.CallbackToken = "cb_some"
		some.WebhookURL, some.WebhookEvents = "https://example.com/hook", []string{lepus.WebhookCompleted}
		create(t, s, all, 100)
		create(t, s, some, 100)
		for _, id := range []string{"tsk_all", "tsk_some"} {
			task, err := s.TaskGet(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.TaskSave(ctx, task); err != nil { // still pending: no event
				t.Fatal(err)
			}
			task.Status = lepus.StatusProcessing
			for range 2 { // the second save is not a start
				if err := s.TaskSave(ctx, task); err != nil {
					t.Fatal(err)
				}
			}
			var asset *lepus.Asset
			for range 2 { // a retried collect rewrites the row: one event
				asset, err = s.AssetUpsert(ctx, &lepus.Asset{TaskID: id, UserID: "u1", Stage: "image", Index: 0, Kind: lepus.AssetImage})
				if err != nil {
					t.Fatal(err)
				}
			}
			if _, err := s.TaskFinish(ctx, &lepus.TaskFinishParams{ID: id, Status: lepus.StatusCompleted}); err != nil {
				t.Fatal(err)
			}
			if id == "tsk_all" {
				want := []string{"start ", "output " + asset.ID, "completed "}
				if got := rec.got(); !slices.Equal(got, want) {
					t.Fatalf("events = %q, want %q", got, want)
				}
			}
		}
		if got := rec.got(); len(got) != 4 || got[3] != "completed " {
			t.Fatalf("events with the completed-only task = %q", got)
		}
		// Each event's row, written in its transaction, committed with it.
		for _, id := range rec.ids {
			if n := countRows(t, s.DB(), `SELECT count(*) FROM webhook_secret WHERE user_id = $1`, "ev:"+id); n != 1 {
				t.Fatalf("event %s: its transaction's row is missing", id)
			}
		}
		if ids := slices.Compact(slices.Sorted(slices.Values(rec.ids))); len(ids) != 4 {
			t.Fatalf("message ids %v: want one per event", rec.ids)
		}
	})

	// Two workers save one pending task as processing at once: exactly one
	// save is its start. The second reads the status while the first (in
	// its hook, row written) has not committed, and must wait for it.
	t.Run("StartOnce", func(t *testing.T) {
		t.Parallel()
		s, _ := su.open(t, time.Millisecond)
		var (
			mu     sync.Mutex
			starts int
		)
		held, release := make(chan int, 1), make(chan struct{})
		s.SetWebhookHook(func(ctx context.Context, tx *sql.Tx, ev *lepus.WebhookEvent) error {
			mu.Lock()
			starts++
			n := starts
			mu.Unlock()
			if n == 1 { // hold the first start open until told
				pid, err := backendPID(ctx, s, tx)
				held <- pid
				<-release
				return err
			}
			return nil
		})
		in := newTask("tsk_once", "u1")
		in.WebhookURL, in.WebhookEvents = "https://example.com/hook", []string{lepus.WebhookStart}
		create(t, s, in, 100)
		save := func() <-chan error {
			out := make(chan error, 1)
			go func() {
				task, err := s.TaskGet(ctx, "tsk_once")
				if err == nil {
					task.Status = lepus.StatusProcessing
					err = s.TaskSave(ctx, task)
				}
				out <- err
			}()
			return out
		}
		a := save()
		var pid int
		select {
		case pid = <-held:
		case err := <-a:
			t.Fatalf("first save ended before its start event: %v", err)
		}
		b := save()
		waitBlockedBy(t, s, pid)
		close(release)
		for _, err := range []error{<-a, <-b} {
			if err != nil {
				t.Fatalf("TaskSave: %v", err)
			}
		}
		mu.Lock()
		defer mu.Unlock()
		if starts != 1 {
			t.Fatalf("%d start events for one task, want 1", starts)
		}
	})

	t.Run("ErrHookRollsBack", func(t *testing.T) {
		t.Parallel()
		s, _ := su.open(t, time.Millisecond)
		rec := &hookRecorder{fail: errors.New("queue down")}
		s.SetWebhookHook(rec.hook)
		in := newTask("tsk_rb", "u1")
		in.WebhookURL, in.WebhookEvents = "https://example.com/hook", lepus.WebhookEvents
		create(t, s, in, 100)
		task, _ := s.TaskGet(ctx, "tsk_rb")
		task.Status, task.Step = lepus.StatusProcessing, "image.wait"
		if err := s.TaskSave(ctx, task); err == nil {
			t.Fatal("TaskSave succeeded though its start event could not be recorded")
		}
		if _, err := s.AssetUpsert(ctx, &lepus.Asset{TaskID: "tsk_rb", UserID: "u1", Stage: "image", Kind: lepus.AssetImage}); err == nil {
			t.Fatal("AssetUpsert succeeded though its output event could not be recorded")
		}
		if _, err := s.TaskFinish(ctx, &lepus.TaskFinishParams{ID: "tsk_rb", Status: lepus.StatusCanceled}); err == nil {
			t.Fatal("TaskFinish succeeded though its completed event could not be recorded")
		}
		got, err := s.TaskGet(ctx, "tsk_rb")
		if err != nil || got.Status != lepus.StatusPending || got.Step == "image.wait" || len(got.Assets) != 0 {
			t.Fatalf("after failed events: %+v, %v", got, err)
		}
		if b := balance(t, s, "u1", 100); b != 90 {
			t.Fatalf("balance %d: the refund of the rolled-back finish stuck", b)
		}
	})

	t.Run("Attempts", func(t *testing.T) {
		t.Parallel()
		s, _ := su.open(t, time.Millisecond)
		in := newTask("tsk_at", "u1")
		in.WebhookURL, in.WebhookEvents = "https://example.com/hook", []string{lepus.WebhookCompleted}
		create(t, s, in, 100)
		at := t0.Add(time.Hour)
		for i, code := range []int{500, 200} {
			a := &lepus.WebhookAttempt{TaskID: "tsk_at", MessageID: "msg_1", Event: lepus.WebhookCompleted, Attempt: i + 1,
				At: at.Add(time.Duration(i) * time.Second), StatusCode: code, Duration: 1500 * time.Microsecond}
			if code != 200 {
				a.Error = fmt.Sprintf("the receiver answered HTTP %d", code)
			}
			if err := s.WebhookAttemptAdd(ctx, a); err != nil || a.ID == 0 {
				t.Fatalf("WebhookAttemptAdd = %v, id %d", err, a.ID)
			}
		}
		wantCode(t, s.WebhookAttemptAdd(ctx, &lepus.WebhookAttempt{TaskID: "tsk_at"}), lepus.EInvalid)
		got, err := s.TaskGet(ctx, "tsk_at")
		if err != nil || len(got.WebhookAttempts) != 2 {
			t.Fatalf("TaskGet attempts = %+v, %v", got.WebhookAttempts, err)
		}
		a, b := got.WebhookAttempts[0], got.WebhookAttempts[1]
		if a.Attempt != 1 || a.StatusCode != 500 || a.Error == "" || !a.At.Equal(us(at)) || a.Duration != 1500*time.Microsecond ||
			b.Attempt != 2 || b.StatusCode != 200 || b.Error != "" || a.MessageID != "msg_1" || a.Event != lepus.WebhookCompleted {
			t.Fatalf("attempts = %+v", got.WebhookAttempts)
		}
		list, _, err := s.TaskList(ctx, &lepus.TaskListParams{UserID: "u1"})
		if err != nil || len(list) != 1 || len(list[0].WebhookAttempts) != 2 {
			t.Fatalf("TaskList attempts = %v", err)
		}
	})
}
