package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"time"
)

// apiError is a Kling error reply: an HTTP status, a code and a message.
type apiError struct {
	status  int
	code    int
	message string
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %d %s", e.status, e.code, e.message) }

// codeTable maps each Kling code to its HTTP status and default message
// (kling-api.md §2.4).
var codeTable = map[int]struct {
	status  int
	message string
}{
	1000: {401, "authentication failed"},
	1001: {401, "Authorization header is empty"},
	1002: {401, "Authorization header is invalid"},
	1003: {401, "token is not yet valid"},
	1004: {401, "token has expired"},
	1100: {429, "account exception"},
	1101: {429, "account in arrears"},
	1102: {429, "resource pack used up or expired"},
	1103: {403, "no permission to access this resource"},
	1200: {400, "invalid request parameters"},
	1201: {400, "invalid parameter"},
	1202: {404, "invalid request method"},
	1203: {404, "requested resource does not exist"},
	1300: {400, "platform policy triggered"},
	1301: {400, "content security policy triggered"},
	1302: {429, "requests too fast, please slow down"},
	1303: {429, "parallel task over resource pack limit"},
	1304: {429, "IP whitelist policy triggered"},
	5000: {500, "internal server error"},
	5001: {503, "service temporarily unavailable"},
	5002: {504, "server internal timeout"},
}

// knownCode reports whether code is in Kling's table.
func knownCode(code int) bool {
	_, ok := codeTable[code]
	return ok
}

// codeError returns the error Kling sends for code, with msg when given.
func codeError(code int, msg string) *apiError {
	row, ok := codeTable[code]
	if !ok {
		row.status, row.message = http.StatusInternalServerError, "unknown error"
	}
	if msg == "" {
		msg = row.message
	}
	return &apiError{status: row.status, code: code, message: msg}
}

// invalidf is the 1201 reply naming the field at fault.
func invalidf(format string, args ...any) *apiError {
	return codeError(1201, fmt.Sprintf(format, args...))
}

// envelope is the common response wrapper.
type envelope struct {
	Code      int    `json:"code"`
	Message   string `json:"message"`
	RequestID string `json:"request_id"`
	Data      any    `json:"data,omitempty"`
}

// writeData sends a success envelope after the configured response delay.
func (s *Sandbox) writeData(w http.ResponseWriter, r *http.Request, data any) {
	s.write(w, r, http.StatusOK, envelope{Code: 0, Message: "SUCCEED", RequestID: requestID(), Data: data})
}

// writeError sends an error envelope after the configured response delay.
func (s *Sandbox) writeError(w http.ResponseWriter, r *http.Request, e *apiError) {
	s.write(w, r, e.status, envelope{Code: e.code, Message: e.message, RequestID: requestID()})
}

func (s *Sandbox) write(w http.ResponseWriter, r *http.Request, status int, env envelope) {
	if !sleep(r.Context(), s.cfg.ResponseDelay) {
		return
	}
	b, err := json.Marshal(env)
	if err != nil {
		s.log.Error("sandbox: encode response", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// sleep waits d unless ctx ends first; it reports whether the wait completed.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// resetConn drops the client's connection without a response, with a TCP
// RST where possible, as a crashing proxy or a network fault would.
func resetConn(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// HTTP/2 cannot be hijacked; aborting the handler resets the stream.
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// requestID returns a UUID-shaped random trace id.
func requestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
