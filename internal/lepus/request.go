package lepus

import "context"

type requestIDKey struct{}

// WithRequestID returns ctx carrying the id of the HTTP request being
// served (X-Request-Id), so what the request creates (a task) and logs can
// be traced back to it.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the request id ctx carries, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}
