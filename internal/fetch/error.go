package fetch

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
)

// Error is a failed download. Its message is written for the person who
// supplied the URL and is shown to API clients as-is ("this address is not
// allowed", "could not connect", "could not download: timed out"): it
// never holds an IP address, a resolver, a host name the URL did not
// contain or a Go error. Unwrap keeps the cause, so errors.Is still finds
// ErrForbiddenAddress, ErrTooLarge or context.Canceled, and LogValue shows
// it in logs.
type Error struct {
	Msg string
	Err error
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Err }

// LogValue puts the cause next to the message when the error is logged
// directly (slog's "error", err).
func (e *Error) LogValue() slog.Value {
	if e.Err == nil {
		return slog.StringValue(e.Msg)
	}
	return slog.StringValue(e.Msg + " (" + e.Err.Error() + ")")
}

// errTooManyRedirects is checkRedirect's refusal of a long redirect chain.
var errTooManyRedirects = fmt.Errorf("stopped after %d redirects", maxRedirects)

// describe turns an error from the HTTP client (connecting, sending or
// reading) into an *Error whose message a user can act on.
func describe(err error) *Error {
	var (
		fe   *forbiddenError
		ue   *URLError
		dns  *net.DNSError
		ne   net.Error
		op   *net.OpError
		cert *tls.CertificateVerificationError
		uae  x509.UnknownAuthorityError
		hne  x509.HostnameError
		cie  x509.CertificateInvalidError
	)
	msg := "could not download"
	switch {
	case errors.As(err, &fe):
		msg = fe.public
	case errors.As(err, &ue):
		msg = "could not download: the URL " + ue.Reason
	case errors.Is(err, errTooManyRedirects):
		msg = fmt.Sprintf("could not download: too many redirects (more than %d)", maxRedirects)
	case errors.Is(err, context.Canceled):
		msg = "the download was canceled"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		msg = "could not download: timed out"
	case errors.As(err, &dns) && dns.IsNotFound:
		msg = "could not connect: the host name does not exist"
	case errors.As(err, &dns):
		msg = "could not connect: the host name could not be looked up"
	case errors.As(err, &cert), errors.As(err, &uae), errors.As(err, &hne), errors.As(err, &cie):
		msg = "could not connect: the server's TLS certificate is not valid"
	case errors.As(err, &op) && op.Op == "dial":
		msg = "could not connect"
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		msg = "could not download: the connection closed early"
	}
	return &Error{Msg: msg, Err: err}
}

// statusText is the public text of a non-2xx answer. It uses Go's status
// text, not the server's reason phrase, which the server chooses freely.
func statusText(code int) string {
	if t := http.StatusText(code); t != "" {
		return fmt.Sprintf("HTTP %d %s", code, t)
	}
	return fmt.Sprintf("HTTP %d", code)
}

// sizeText writes a byte limit the way a person reads it.
func sizeText(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}
