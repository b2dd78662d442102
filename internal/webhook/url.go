package webhook

import (
	"net/netip"
	"net/url"
	"strings"

	"code.dny.dev/ssrf"
)

// MaxURLLength bounds a webhook URL.
const MaxURLLength = 2048

// publicOnly is the address policy of the delivery dialer (package fetch)
// when private URLs are off: ssrf's default deny list, which covers
// loopback, private, link-local and reserved ranges.
var publicOnly = ssrf.New()

// privateHint tells the client why a URL that works in the sandbox is
// refused here.
const privateHint = "allowed only with LEPUS_ALLOW_PRIVATE_URLS"

// CheckURL says why a webhook URL is refused, or returns "" when it is
// fine: an absolute https URL with a host and no user info. Unless
// allowPrivate (LEPUS_ALLOW_PRIVATE_URLS: the sandbox and tests), it also
// refuses what the delivery dialer would refuse on every attempt, so that
// such a URL fails at create rather than after a day of retries: plain
// http, a port other than 443, an IP literal that is not public, and
// localhost names. A host name that resolves to a private address is
// still only caught when delivering (the address is known only then).
func CheckURL(raw string, allowPrivate bool) string {
	if strings.TrimSpace(raw) != raw || raw == "" {
		return "must be an absolute https URL without spaces"
	}
	if len(raw) > MaxURLLength {
		return "must be at most 2048 characters"
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || !u.IsAbs() || u.Hostname() == "":
		return "must be an absolute https URL"
	case u.User != nil:
		return "must not hold a user name or password"
	case u.Fragment != "":
		return "must not have a #fragment"
	case u.Scheme != "https" && u.Scheme != "http":
		return "must be an absolute https URL"
	case allowPrivate:
		return ""
	case u.Scheme == "http":
		return "must be https (plain http is " + privateHint + ")"
	case u.Port() != "" && u.Port() != "443":
		return "must use the https port 443 (other ports are " + privateHint + ")"
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return "must not point at localhost (" + privateHint + ")"
	}
	if ip, err := netip.ParseAddr(host); err == nil && publicOnly.SafeAddr(ip.WithZone("")) != nil {
		return "must not point at a private, loopback or reserved address (" + privateHint + ")"
	}
	return ""
}
