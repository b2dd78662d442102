package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lepus-ai/lepus/internal/sample"
	"github.com/lepus-ai/lepus/internal/sse"
)

// faceSwapBody uploads a scene and a face to s and returns the body of a
// face swap on them; callers add fields (generate_video, webhook) as
// their test needs.
func faceSwapBody(t testing.TB, s *lepusServer, tok string) map[string]any {
	t.Helper()
	_, scene := s.upload(t, tok, sample.PortraitPNG(sample.Palettes[0], 400, 500))
	_, face := s.upload(t, tok, sample.PortraitPNG(sample.Palettes[1], 400, 500))
	if scene.URL == "" || face.URL == "" {
		t.Fatalf("uploads for a face swap: scene %+v, face %+v", scene, face)
	}
	return map[string]any{"source_image_url": scene.URL, "face_image_url": face.URL}
}

// eventWait bounds how long a test waits for an event or for a stream's
// end; reached only when they never come.
const eventWait = 3 * time.Minute

// eventStream is a task's SSE stream, read in the background with the
// parser the CLI uses.
type eventStream struct {
	c   <-chan sse.Event // closed when the stream ends
	err error            // why it ended; read only after c is closed
}

// events reads a task's SSE stream on s until the server ends it (the
// task ended) and returns its events.
func (s *lepusServer) events(t testing.TB, token, id string) []sse.Event {
	t.Helper()
	return s.openEvents(t, token, id).all(t)
}

// openEvents opens a task's SSE stream on s.
func (s *lepusServer) openEvents(t testing.TB, token, id string) *eventStream {
	t.Helper()
	return openEventsURL(t, s.url+"/tasks/"+id+"/events", token)
}

// openEventsURL opens the SSE stream at url (such as a task's
// urls.events), checks that it is one, and reads it in the background
// until the server ends it or the test ends.
func openEventsURL(t testing.TB, url, token string) *eventStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusOK || !strings.HasPrefix(ct, "text/event-stream") {
		resp.Body.Close()
		t.Fatalf("GET %s: %d %q, want 200 text/event-stream", url, resp.StatusCode, ct)
	}
	c := make(chan sse.Event, 100)
	es := &eventStream{c: c}
	go func() {
		defer close(c)
		defer resp.Body.Close()
		es.err = sse.Read(resp.Body, func(ev sse.Event) error {
			select {
			case c <- ev:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	return es
}

// next returns the stream's next event.
func (es *eventStream) next(t testing.TB) sse.Event {
	t.Helper()
	select {
	case ev, ok := <-es.c:
		if !ok {
			t.Fatalf("the event stream ended early: %v", es.err)
		}
		checkEvent(t, ev)
		return ev
	case <-time.After(eventWait):
		t.Fatalf("no event within %s", eventWait)
	}
	return sse.Event{}
}

// all reads the stream to its end and returns its events: at least one,
// each with JSON data.
func (es *eventStream) all(t testing.TB) []sse.Event {
	t.Helper()
	var out []sse.Event
	timeout := time.After(eventWait)
	for {
		select {
		case ev, ok := <-es.c:
			if !ok {
				if es.err != nil {
					t.Fatalf("reading the event stream: %v; events so far: %q", es.err, out)
				}
				if len(out) == 0 {
					t.Fatal("the event stream ended without an event")
				}
				return out
			}
			checkEvent(t, ev)
			out = append(out, ev)
		case <-timeout:
			t.Fatalf("the event stream did not end within %s; events so far: %q", eventWait, out)
		}
	}
}

// last reads the stream to its end and returns its last event.
func (es *eventStream) last(t testing.TB) sse.Event {
	t.Helper()
	all := es.all(t)
	return all[len(all)-1]
}

// checkEvent fails t unless ev's data is JSON, as every event Lepus sends.
func checkEvent(t testing.TB, ev sse.Event) {
	t.Helper()
	if !json.Valid([]byte(ev.Data)) {
		t.Fatalf("event %s: data is not JSON: %q", ev.Name, ev.Data)
	}
}

// countEvents counts the events named name.
func countEvents(events []sse.Event, name string) int {
	n := 0
	for _, e := range events {
		if e.Name == name {
			n++
		}
	}
	return n
}

// isCompleted reports whether ev is the status event of a completed task.
func isCompleted(ev sse.Event) bool {
	var st struct{ Status string }
	return ev.Name == "status" && json.Unmarshal([]byte(ev.Data), &st) == nil && st.Status == "completed"
}
