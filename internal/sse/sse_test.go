package sse_test

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/lepus-ai/lepus/internal/sse"
)

// collect reads r and returns its events.
func collect(r io.Reader) ([]sse.Event, error) {
	var got []sse.Event
	err := sse.Read(r, func(ev sse.Event) error {
		got = append(got, ev)
		return nil
	})
	return got, err
}

func TestRead(t *testing.T) {
	t.Parallel()

	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		// One byte a read: events do not depend on how the stream is cut.
		got, err := collect(iotest.OneByteReader(strings.NewReader(": keep-alive\n\n" +
			"event: status\ndata: {\"status\":\"processing\"}\nid: 1\nretry: 3000\n\n" +
			"data:{\"a\":1,\r\ndata: \"b\":2}\r\n\r\n" + // no name, no space, CRLF, two data lines
			"event: status\ndata: {\"status\":\"completed\"}\n\n" +
			"event: asset\ndata: {\"cut\":"))) // cut off by the end: dropped
		if err != nil {
			t.Fatal(err)
		}
		want := []sse.Event{
			{Name: "status", Data: `{"status":"processing"}`},
			{Name: "message", Data: "{\"a\":1,\n\"b\":2}"},
			{Name: "status", Data: `{"status":"completed"}`},
		}
		if len(got) != len(want) {
			t.Fatalf("events %q, want %q", got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("event %d = %q, want %q", i, got[i], want[i])
			}
		}
	})

	t.Run("ErrCallback", func(t *testing.T) {
		t.Parallel()
		stop := errors.New("stop")
		calls := 0
		err := sse.Read(strings.NewReader("data: 1\n\ndata: 2\n\n"), func(sse.Event) error {
			calls++
			return stop
		})
		if err != stop || calls != 1 {
			t.Fatalf("err %v after %d calls, want fn's error as it is after 1", err, calls)
		}
	})

	t.Run("ErrRead", func(t *testing.T) {
		t.Parallel()
		broken := errors.New("connection reset")
		_, err := collect(io.MultiReader(strings.NewReader("data: 1\n\n"), iotest.ErrReader(broken)))
		if !errors.Is(err, broken) {
			t.Fatalf("err %v, want the reader's", err)
		}
	})

	t.Run("ErrLineTooLong", func(t *testing.T) {
		t.Parallel()
		_, err := collect(strings.NewReader("data: " + strings.Repeat("x", 5<<20) + "\n\n"))
		if !errors.Is(err, bufio.ErrTooLong) {
			t.Fatalf("err %v, want bufio.ErrTooLong", err)
		}
	})
}
