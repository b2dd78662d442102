package fetch

import (
	"errors"
	"fmt"
	"net/netip"
	"syscall"

	"code.dny.dev/ssrf"
)

// ErrForbiddenAddress is wrapped by errors for connections the SSRF guard
// refused: a private, loopback or reserved address, or a port other than
// 80/443. Callers treat it as a permanent failure of the URL, not of the
// network, so it must never be retried.
var ErrForbiddenAddress = errors.New("forbidden address")

// allowPrivateHint tells an operator how to lift the restriction; it names
// the environment variable because that is the only switch they have.
const allowPrivateHint = "set LEPUS_ALLOW_PRIVATE_URLS=1 to allow it"

// privateV4 and privateV6 are the ranges AllowPrivate opens up: loopback,
// RFC 1918 / ULA private space, link-local, and shared address space
// (carrier-grade NAT, which Tailscale and some Docker setups use).
// Everything else ssrf denies (multicast, 0.0.0.0/8, documentation
// ranges, ...) stays denied even then.
var (
	privateV4 = []netip.Prefix{
		netip.MustParsePrefix("127.0.0.0/8"),
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("172.16.0.0/12"),
		netip.MustParsePrefix("192.168.0.0/16"),
		netip.MustParsePrefix("169.254.0.0/16"),
		netip.MustParsePrefix("100.64.0.0/10"),
	}
	privateV6 = []netip.Prefix{
		netip.MustParsePrefix("::1/128"),
		netip.MustParsePrefix("fc00::/7"),
		netip.MustParsePrefix("fe80::/10"),
	}
)

// forbiddenError is what the dialer's Control hook returns. msg names the
// address and goes to logs only: the address may be what an internal host
// name resolved to. public is what the person who supplied the URL reads
// (see Error). Is makes it match ErrForbiddenAddress and Unwrap keeps the
// ssrf cause.
type forbiddenError struct {
	msg    string
	public string
	cause  error
}

func (e *forbiddenError) Error() string        { return e.msg }
func (e *forbiddenError) Unwrap() error        { return e.cause }
func (e *forbiddenError) Is(target error) bool { return target == ErrForbiddenAddress }

// guard checks every address the dialer is about to connect to. Checking
// the resolved IP at connect time (rather than the URL's host) is what
// defeats DNS rebinding and redirects to internal hosts.
type guard struct {
	g            *ssrf.Guardian
	allowPrivate bool
}

// newGuard builds the guard. extraV4 lets in-package tests allow one
// specific loopback address (with any port) without allowing all of them.
func newGuard(allowPrivate bool, extraV4 []netip.Prefix) *guard {
	var opts []ssrf.Option
	v4 := append([]netip.Prefix(nil), extraV4...)
	if allowPrivate {
		v4 = append(v4, privateV4...)
		opts = append(opts, ssrf.WithAllowedV6Prefixes(privateV6...))
	}
	if allowPrivate || len(extraV4) > 0 {
		opts = append(opts, ssrf.WithAnyPort())
	}
	opts = append(opts, ssrf.WithAllowedV4Prefixes(v4...))
	return &guard{g: ssrf.New(opts...), allowPrivate: allowPrivate}
}

// notAllowed starts every public refusal.
const notAllowed = "this address is not allowed"

// control is the net.Dialer Control hook. It checks the address before the
// port so that the message for http://127.0.0.1:8080 talks about the
// address, which is the real problem.
func (g *guard) control(network, address string, _ syscall.RawConn) error {
	if network != "tcp4" && network != "tcp6" {
		return &forbiddenError{msg: fmt.Sprintf("network %s is not allowed", network), public: notAllowed, cause: ssrf.ErrProhibitedNetwork}
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &forbiddenError{msg: fmt.Sprintf("address %s cannot be checked", address), public: notAllowed, cause: err}
	}
	if err := g.g.SafeAddr(ap.Addr()); err != nil {
		if g.allowPrivate {
			return &forbiddenError{msg: fmt.Sprintf("address %s is reserved and never allowed", ap.Addr()),
				public: notAllowed + " (a reserved address)", cause: err}
		}
		return &forbiddenError{msg: fmt.Sprintf("address %s is private or loopback; %s", ap.Addr(), allowPrivateHint),
			public: notAllowed + " (a private or loopback address; " + allowPrivateHint + ")", cause: err}
	}
	if err := g.g.SafeAddrPort(ap); err != nil {
		return &forbiddenError{
			msg:    fmt.Sprintf("port %d is not allowed (only 80 and 443); %s", ap.Port(), allowPrivateHint),
			public: fmt.Sprintf("%s (port %d: only 80 and 443; %s)", notAllowed, ap.Port(), allowPrivateHint),
			cause:  err,
		}
	}
	return nil
}
