// Package fetch downloads user-supplied URLs and provider results without
// letting them reach the machine's own network (SSRF).
package fetch

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"time"
)

// ErrTooLarge is wrapped by errors for bodies longer than Config.MaxBytes.
// Lepus copies results into its own storage, so an unbounded body would
// fill the disk.
var ErrTooLarge = errors.New("response body too large")

// maxRedirects bounds redirect chains; CDNs use one or two.
const maxRedirects = 5

// Config configures a Client.
type Config struct {
	// AllowPrivate allows loopback, private and link-local targets on any
	// port, for the sandbox and tests. Default false: only public addresses
	// on ports 80 and 443.
	AllowPrivate bool
	// Timeout bounds a whole request including reading the body.
	// Default 5 minutes.
	Timeout time.Duration
	// MaxBytes bounds the body size. Default 2 GiB.
	MaxBytes int64
	// UserAgent is sent with every request. Default "lepus".
	UserAgent string
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	c.Timeout = cmp.Or(c.Timeout, 5*time.Minute)
	c.MaxBytes = cmp.Or(c.MaxBytes, 2<<30)
	c.UserAgent = cmp.Or(c.UserAgent, "lepus")
	return c
}

// Client fetches URLs through an SSRF-safe http.Client. It is safe for
// concurrent use and should be shared, so connections are reused.
type Client struct {
	cfg  Config
	http *http.Client
}

// New returns a Client for cfg; zero fields take their defaults.
func New(cfg Config) *Client {
	return newClient(cfg, nil)
}

// newClient is New plus extra allowed IPv4 prefixes, for in-package tests.
func newClient(cfg Config, extraV4 []netip.Prefix) *Client {
	cfg = cfg.WithDefaults()
	g := newGuard(cfg.AllowPrivate, extraV4)
	dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second, Control: g.control}
	transport := &http.Transport{
		// Proxy must stay nil: with a proxy the dialer would check the
		// proxy's address instead of the target's.
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          128,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	return &Client{cfg: cfg, http: &http.Client{
		Transport:     transport,
		Timeout:       cfg.Timeout,
		CheckRedirect: checkRedirect,
	}}
}

// checkRedirect allows a few http(s) redirects; the dialer re-checks each
// target's address, so a redirect to an internal host fails at connect.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > maxRedirects {
		return errTooManyRedirects
	}
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		return &URLError{Reason: "redirects to a non-http(s) URL"}
	}
	return nil
}

// HTTPClient returns the underlying safe client, for callers that need
// other methods or headers than Open's plain GET. It does not enforce
// MaxBytes.
func (c *Client) HTTPClient() *http.Client { return c.http }

// AllowPrivate reports whether the client may reach private addresses
// (Config.AllowPrivate), for checks that follow the same rule (plain-http
// webhook URLs).
func (c *Client) AllowPrivate() bool { return c.cfg.AllowPrivate }

// Response is a successful (2xx) response whose body the caller streams.
type Response struct {
	// Body is limited to Config.MaxBytes; the caller must close it.
	Body io.ReadCloser
	// ContentType is the Content-Type header, possibly empty.
	ContentType string
	// ContentLength is -1 when unknown.
	ContentLength int64
	// URL is the final URL after redirects.
	URL string
}

// StatusError reports a non-2xx response. Callers look at StatusCode to
// tell an expired result (403/404) from a server hiccup (5xx). Its message
// ("could not download: HTTP 404 Not Found") is public, like Error's.
type StatusError struct {
	StatusCode int
	// Status is the server's status line, for logs.
	Status string
	// URL is redacted: no query, fragment or user info. It is not in the
	// message: after a redirect it may name a host the user never gave.
	URL string
}

func (e *StatusError) Error() string {
	return "could not download: " + statusText(e.StatusCode)
}

// LogValue adds the redacted URL when the error is logged directly.
func (e *StatusError) LogValue() slog.Value {
	return slog.StringValue(fmt.Sprintf("%s (get %s: %s)", e.Error(), e.URL, e.Status))
}

// Open GETs rawURL and returns its body for streaming. A URL that is not
// an absolute http(s) URL fails with a *URLError before any traffic;
// non-2xx responses return a *StatusError; every other failure is an
// *Error with a public message, wrapping ErrForbiddenAddress for a refused
// address and ErrTooLarge for bodies that are (or turn out to be) larger
// than MaxBytes.
func (c *Client) Open(ctx context.Context, rawURL string) (*Response, error) {
	u, err := parseURL(rawURL)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, &Error{Msg: "could not download: the URL is not valid", Err: err}
	}
	req.Header.Set("User-Agent", c.cfg.UserAgent)
	resp, err := c.http.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			// url.Error prints the URL it failed on (possibly a redirect
			// target); drop its query so signatures stay out of logs.
			if pu, perr := url.Parse(ue.URL); perr == nil {
				ue.URL = redact(pu)
			}
		}
		return nil, describe(err)
	}
	final := redact(resp.Request.URL)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		drain(resp.Body)
		return nil, &StatusError{StatusCode: resp.StatusCode, Status: resp.Status, URL: final}
	}
	if resp.ContentLength > c.cfg.MaxBytes {
		drain(resp.Body)
		return nil, tooLarge(c.cfg.MaxBytes, fmt.Errorf("get %s: %d bytes: %w", final, resp.ContentLength, ErrTooLarge))
	}
	return &Response{
		Body:          &limitedBody{rc: resp.Body, left: c.cfg.MaxBytes, max: c.cfg.MaxBytes},
		ContentType:   resp.Header.Get("Content-Type"),
		ContentLength: resp.ContentLength,
		URL:           resp.Request.URL.String(),
	}, nil
}

// drain reads a little of an unwanted body so the connection can be
// reused, then closes it.
func drain(rc io.ReadCloser) {
	_, _ = io.CopyN(io.Discard, rc, 4<<10)
	_ = rc.Close()
}

// tooLarge is the public error for a body over the limit; cause wraps
// ErrTooLarge.
func tooLarge(max int64, cause error) *Error {
	return &Error{Msg: "could not download: the file is larger than " + sizeText(max), Err: cause}
}

// limitedBody fails with ErrTooLarge once more than max bytes arrive, so a
// server that lies about (or omits) Content-Length cannot exceed the limit.
// Other read errors (a timeout, a dropped connection) become an *Error too.
type limitedBody struct {
	rc   io.ReadCloser
	left int64
	max  int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// The limit is reached; one more byte means the body is too large.
		var one [1]byte
		n, err := b.rc.Read(one[:])
		if n > 0 {
			return 0, tooLarge(b.max, ErrTooLarge)
		}
		return 0, readError(err)
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, readError(err)
}

// readError keeps io.EOF (the normal end, compared with ==) and describes
// anything else.
func readError(err error) error {
	if err == nil || err == io.EOF {
		return err
	}
	return describe(err)
}

func (b *limitedBody) Close() error { return b.rc.Close() }
