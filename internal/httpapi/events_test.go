package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lepus-ai/lepus/internal/app"
	"github.com/lepus-ai/lepus/internal/lepus"
	"github.com/lepus-ai/lepus/internal/sse"
)

// readSignalStore is the real store, telling reads of a task on read (at
// most 64 unread), so a test knows a stream has re-read its task.
type readSignalStore struct {
	lepus.Store
	read chan struct{}
}

func (s readSignalStore) TaskGet(ctx context.Context, id string) (*lepus.Task, error) {
	t, err := s.Store.TaskGet(ctx, id)
	select {
	case s.read <- struct{}{}:
	default:
	}
	return t, err
}

// streamWait bounds each wait for an event or a re-read; reached only
// when they never come.
const streamWait = time.Minute

// openStream opens a task's event stream and reads it in the background;
// the channel is closed when the server ends the stream.
func openStream(t *testing.T, a *appAPI, id string) <-chan sse.Event {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, a.srv.URL+"/tasks/"+id+"/events", nil)
	req.Header.Set("Authorization", "Bearer "+a.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusOK || !strings.HasPrefix(ct, "text/event-stream") {
		resp.Body.Close()
		t.Fatalf("events: %d %s", resp.StatusCode, ct)
	}
	c := make(chan sse.Event, 64)
	go func() {
		defer close(c)
		defer resp.Body.Close()
		_ = sse.Read(resp.Body, func(ev sse.Event) error {
			select {
			case c <- ev:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	return c
}

// nextEvent returns the stream's next event, decoding its data into v.
func nextEvent(t *testing.T, c <-chan sse.Event, v any) string {
	t.Helper()
	select {
	case ev, ok := <-c:
		if !ok {
			t.Fatal("the stream ended early")
		}
		if err := json.Unmarshal([]byte(ev.Data), v); err != nil {
			t.Fatalf("event %s data %q: %v", ev.Name, ev.Data, err)
		}
		return ev.Name
	case <-time.After(streamWait):
		t.Fatalf("no event within %s", streamWait)
	}
	return ""
}

// A stream sends an event for each change a client can see (status,
// progress, step, a new asset) and none for a write that changes none of
// them; it ends with the task.
func TestEvents_Changes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	read := make(chan struct{}, 64)
	a := newAppAPI(t, func(s *app.Service) {
		s.Store = readSignalStore{s.Store, read}
		s.Hub.Recheck = time.Hour // only the hub wakes the stream
	})
	task := createAs(t, a, "ana")
	c := openStream(t, a, task.ID)
	var st StatusEvent
	if name := nextEvent(t, c, &st); name != "status" || st.Status != lepus.StatusPending || st.Step != "queued" {
		t.Fatalf("first event %s %+v, want the pending status", name, st)
	}

	// save applies change to the stored task and wakes the stream.
	save := func(change func(*lepus.Task)) {
		t.Helper()
		cur, err := a.app.Store.TaskGet(ctx, task.ID)
		if err != nil {
			t.Fatal(err)
		}
		change(cur)
		if err := a.app.Store.TaskSave(ctx, cur); err != nil {
			t.Fatal(err)
		}
		a.app.Service.Hub.Publish(task.ID)
	}
	// unchanged writes the task as it is and waits until the stream has
	// re-read it: had that re-read sent anything, it would come before the
	// event of the next change.
	unchanged := func() {
		t.Helper()
		for len(read) > 0 {
			<-read
		}
		save(func(*lepus.Task) {})
		select {
		case <-read:
		case <-time.After(streamWait):
			t.Fatal("the stream did not re-read the task when woken")
		}
	}

	unchanged()
	save(func(t *lepus.Task) { t.Status, t.Progress, t.Step = lepus.StatusProcessing, 10, "video.submit" })
	if name := nextEvent(t, c, &st); name != "status" || st.Status != lepus.StatusProcessing || st.Progress != 10 || st.Step != "video.submit" {
		t.Fatalf("after a status change: %s %+v", name, st)
	}
	for _, want := range []ProgressEvent{{Progress: 40, Step: "video.submit"}, {Progress: 40, Step: "video.wait"}} {
		unchanged()
		save(func(t *lepus.Task) { t.Progress, t.Step = want.Progress, want.Step })
		var pr ProgressEvent
		if name := nextEvent(t, c, &pr); name != "progress" || pr.Progress != want.Progress || pr.Step != want.Step {
			t.Fatalf("after a change to %+v: %s %+v", want, name, pr)
		}
	}

	unchanged()
	asset, err := a.app.Store.AssetUpsert(ctx, &lepus.Asset{TaskID: task.ID, UserID: "ana", Stage: "video", Kind: lepus.AssetVideo,
		Mime: "video/mp4", ProviderURL: "https://cdn.example/v.mp4", Primary: true})
	if err != nil {
		t.Fatal(err)
	}
	a.app.Service.Hub.Publish(task.ID)
	var av AssetView
	if name := nextEvent(t, c, &av); name != "asset" || av.ID != asset.ID || av.URL != asset.ProviderURL {
		t.Fatalf("after a new asset: %s %+v", name, av)
	}

	unchanged()
	if _, err := a.app.Store.TaskFinish(ctx, &lepus.TaskFinishParams{ID: task.ID, Status: lepus.StatusCompleted}); err != nil {
		t.Fatal(err)
	}
	a.app.Service.Hub.Publish(task.ID)
	if name := nextEvent(t, c, &st); name != "status" || st.Status != lepus.StatusCompleted || st.Progress != 100 {
		t.Fatalf("after the end: %s %+v", name, st)
	}
	select {
	case ev, ok := <-c:
		if ok {
			t.Fatalf("an event after the end: %s %s", ev.Name, ev.Data)
		}
	case <-time.After(streamWait):
		t.Fatal("the stream did not end with the task")
	}
}

// A stream of a task the caller does not own is one not_found status event.
func TestEvents_NotOwner(t *testing.T) {
	t.Parallel()
	a := newAppAPI(t, nil)
	c := openStream(t, a, createAs(t, a, "bob").ID)
	var st StatusEvent
	if name := nextEvent(t, c, &st); name != "status" || st.Error == nil || st.Error.Code != "not_found" {
		t.Fatalf("event %s %+v, want a not_found status", name, st)
	}
	select {
	case ev, ok := <-c:
		if ok {
			t.Fatalf("a second event: %s %s", ev.Name, ev.Data)
		}
	case <-time.After(streamWait):
		t.Fatal("the stream did not end")
	}
}
