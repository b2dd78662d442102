package webhook

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/lepus-ai/lepus/internal/fetch"
)

// DefaultTimeout bounds one delivery attempt.
const DefaultTimeout = 15 * time.Second

// Config configures a Sender.
type Config struct {
	// Timeout bounds one attempt, connecting to reading the status.
	// Default DefaultTimeout.
	Timeout time.Duration
	// UserAgent is sent with every delivery. Default "lepus-webhooks".
	UserAgent string
	// Now is the clock of webhook-timestamp. Default time.Now.
	Now func() time.Time
}

// Sender posts signed deliveries. It is safe for concurrent use.
type Sender struct {
	http *http.Client
	cfg  Config
}

// NewSender returns a Sender over safe, the SSRF-safe client of package
// fetch (its dialer refuses private addresses unless they are allowed).
// Redirects are not followed: a delivery goes to the URL the client gave,
// and a 3xx is a failed attempt.
func NewSender(safe *fetch.Client, cfg Config) *Sender {
	c := *safe.HTTPClient()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c.Timeout = 0 // each attempt has its own context deadline
	cfg.Timeout = cmp.Or(cfg.Timeout, DefaultTimeout)
	cfg.UserAgent = cmp.Or(cfg.UserAgent, "lepus-webhooks")
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Sender{http: &c, cfg: cfg}
}

// Message is one delivery: where, what, and the key to sign it with.
type Message struct {
	URL string
	// ID is the webhook-id, the same for every attempt.
	ID     string
	Body   []byte
	Secret string
}

// Result is the outcome of one attempt.
type Result struct {
	At time.Time
	// StatusCode is the receiver's answer; 0 when none came.
	StatusCode int
	Duration   time.Duration
	// Err is nil on a 2xx answer; its message is safe to show the user (it
	// names no internal address).
	Err error
}

// Send makes one delivery attempt.
func (s *Sender) Send(ctx context.Context, m Message) Result {
	now := s.cfg.Now()
	res := Result{At: now}
	sig, err := Sign(m.Secret, m.ID, now, m.Body)
	if err != nil {
		res.Err = err
		return res
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.URL, bytes.NewReader(m.Body))
	if err != nil {
		res.Err = errors.New("the webhook URL is not valid")
		return res
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", s.cfg.UserAgent)
	req.Header.Set(HeaderID, m.ID)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(HeaderSignature, sig)
	start := time.Now()
	resp, err := s.http.Do(req)
	if err != nil {
		res.Duration = time.Since(start)
		res.Err = describe(err, s.cfg.Timeout)
		return res
	}
	_, _ = io.CopyN(io.Discard, resp.Body, 4<<10) // let the connection be reused
	_ = resp.Body.Close()
	res.Duration = time.Since(start)
	res.StatusCode = resp.StatusCode
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		res.Err = fmt.Errorf("the receiver answered HTTP %d", resp.StatusCode)
	}
	return res
}

// sendError is a failed attempt: its message names no address (the URL's
// host may resolve to an internal one), and Unwrap keeps the cause, so
// errors.Is finds fetch.ErrForbiddenAddress.
type sendError struct {
	msg   string
	cause error
}

func (e *sendError) Error() string { return e.msg }
func (e *sendError) Unwrap() error { return e.cause }

// describe says why no answer came, in words that name no address.
func describe(err error, timeout time.Duration) error {
	return &sendError{msg: why(err, timeout), cause: err}
}

// why is describe's message.
func why(err error, timeout time.Duration) string {
	var (
		dns  *net.DNSError
		ne   net.Error
		op   *net.OpError
		cert *tls.CertificateVerificationError
		uae  x509.UnknownAuthorityError
		hne  x509.HostnameError
	)
	switch {
	case errors.Is(err, fetch.ErrForbiddenAddress):
		return "this address is not allowed (private, loopback or reserved, or a port other than 80/443)"
	case errors.Is(err, context.Canceled):
		return "the delivery was interrupted"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return fmt.Sprintf("no answer within %s", timeout)
	case errors.As(err, &dns) && dns.IsNotFound:
		return "could not connect: the host name does not exist"
	case errors.As(err, &dns):
		return "could not connect: the host name could not be looked up"
	case errors.As(err, &cert), errors.As(err, &uae), errors.As(err, &hne):
		return "could not connect: the receiver's TLS certificate is not valid"
	case errors.As(err, &op) && op.Op == "dial":
		return "could not connect"
	}
	return "the delivery failed before an answer came"
}

// Payload is the body of every delivery, the Standard Webhooks envelope.
type Payload struct {
	// Type is "task.start", "task.output" or "task.completed".
	Type string `json:"type"`
	// Timestamp is when the event happened.
	Timestamp time.Time `json:"timestamp"`
	// Data is the task as GET /tasks/{id} shows it at the event.
	Data any `json:"data"`
}
