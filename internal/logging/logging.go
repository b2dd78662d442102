// Package logging builds Lepus's slog logger from its settings: the format
// (text or JSON), the level, the request id taken from the context, and a
// quieter view of it for River's housekeeping.
package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/lepus-ai/lepus/internal/lepus"
)

// Formats are the accepted values of LEPUS_LOG_FORMAT.
const (
	FormatText = "text"
	FormatJSON = "json"
)

// New returns a logger writing format (FormatText or FormatJSON) at level
// ("debug", "info", "warn", "error") to w. A record logged with a context
// that carries a request id (lepus.WithRequestID) gets a request_id
// attribute.
func New(w io.Writer, format, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("LEPUS_LOG_LEVEL: %w", err)
	}
	opts := &slog.HandlerOptions{Level: l}
	var h slog.Handler
	switch format {
	case FormatText, "":
		h = slog.NewTextHandler(w, opts)
	case FormatJSON:
		h = slog.NewJSONHandler(w, opts)
	default:
		return nil, fmt.Errorf("LEPUS_LOG_FORMAT: %q is not text|json", format)
	}
	return slog.New(requestIDHandler{h}), nil
}

// requestIDHandler adds the context's request id to each record.
type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := lepus.RequestID(ctx); id != "" {
		r = r.Clone()
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(as)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}

// Quiet returns a logger that writes l's info records at debug level, and
// its warnings and errors as they are: for River, whose client, elector,
// producers and maintenance services report routine housekeeping at info
// (most of a busy process's lines otherwise).
func Quiet(l *slog.Logger) *slog.Logger {
	if l == nil {
		return nil
	}
	return slog.New(quietHandler{l.Handler()})
}

// quietHandler lowers records below warn to debug.
type quietHandler struct{ next slog.Handler }

func demote(l slog.Level) slog.Level {
	if l < slog.LevelWarn {
		return min(l, slog.LevelDebug)
	}
	return l
}

func (h quietHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, demote(l))
}

func (h quietHandler) Handle(ctx context.Context, r slog.Record) error {
	r.Level = demote(r.Level)
	return h.next.Handle(ctx, r)
}

func (h quietHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return quietHandler{h.next.WithAttrs(as)}
}

func (h quietHandler) WithGroup(name string) slog.Handler {
	return quietHandler{h.next.WithGroup(name)}
}
