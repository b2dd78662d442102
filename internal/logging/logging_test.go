package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/lepus-ai/lepus/internal/lepus"
)

func TestNew(t *testing.T) {
	t.Parallel()
	t.Run("JSONWithRequestID", func(t *testing.T) {
		t.Parallel()
		var buf bytes.Buffer
		l, err := New(&buf, "json", "info")
		if err != nil {
			t.Fatal(err)
		}
		l.With("task_id", "tsk_1").InfoContext(lepus.WithRequestID(context.Background(), "req-1"), "hello")
		var rec map[string]any
		if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
			t.Fatalf("not one JSON line: %q: %v", buf.String(), err)
		}
		if rec["msg"] != "hello" || rec["request_id"] != "req-1" || rec["task_id"] != "tsk_1" {
			t.Fatalf("record = %v", rec)
		}
	})
	t.Run("TextDefault", func(t *testing.T) {
		t.Parallel()
		var buf bytes.Buffer
		l, err := New(&buf, "", "info")
		if err != nil {
			t.Fatal(err)
		}
		l.Info("hello", "k", "v")
		if got := buf.String(); !strings.Contains(got, "msg=hello k=v") {
			t.Fatalf("text line = %q", got)
		}
	})
	t.Run("ErrFormat", func(t *testing.T) {
		t.Parallel()
		if _, err := New(&bytes.Buffer{}, "yaml", "info"); err == nil || !strings.Contains(err.Error(), "LEPUS_LOG_FORMAT") {
			t.Fatalf("err = %v, want one naming LEPUS_LOG_FORMAT", err)
		}
	})
	t.Run("ErrLevel", func(t *testing.T) {
		t.Parallel()
		if _, err := New(&bytes.Buffer{}, "text", "loud"); err == nil || !strings.Contains(err.Error(), "LEPUS_LOG_LEVEL") {
			t.Fatalf("err = %v, want one naming LEPUS_LOG_LEVEL", err)
		}
	})
}

func TestQuiet(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, level string
		want        []string // messages that get out
	}{
		{"AtInfo", "info", []string{"warn", "error"}},
		{"AtDebug", "debug", []string{"debug", "info", "warn", "error"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			base, err := New(&buf, "json", tc.level)
			if err != nil {
				t.Fatal(err)
			}
			q := Quiet(base).With("component", "river")
			q.Debug("debug")
			q.Info("info")
			q.Warn("warn")
			q.Error("error")
			var got []string
			for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
				var rec struct{ Msg, Level, Component string }
				if err := json.Unmarshal([]byte(line), &rec); err != nil {
					t.Fatalf("line %q: %v", line, err)
				}
				if rec.Msg == "info" && rec.Level != "DEBUG" || rec.Msg == "warn" && rec.Level != "WARN" || rec.Component != "river" {
					t.Fatalf("record %+v", rec)
				}
				got = append(got, rec.Msg)
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Fatalf("logged %v, want %v", got, tc.want)
			}
		})
	}
}
