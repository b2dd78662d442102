package fetch

import (
	"net/url"
	"strings"
)

// URLError says why a URL was refused before any network traffic. Reason is
// written for the person who typed the URL, so the API can show it as-is
// next to the field name.
type URLError struct {
	Reason string
}

func (e *URLError) Error() string { return e.Reason }

// CheckURL validates syntax only: an absolute http or https URL with a host.
// Whether the host is reachable or allowed is decided at connect time by
// the client, because only then is the real IP known.
func CheckURL(rawURL string) error {
	_, err := parseURL(rawURL)
	return err
}

func parseURL(rawURL string) (*url.URL, error) {
	if strings.TrimSpace(rawURL) == "" {
		return nil, &URLError{Reason: "must not be empty"}
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, &URLError{Reason: "is not a valid URL"}
	}
	if !u.IsAbs() || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, &URLError{Reason: "must be an absolute http(s) URL"}
	}
	if u.Hostname() == "" {
		return nil, &URLError{Reason: "must include a host"}
	}
	return u, nil
}

// redact drops the query, fragment and user info from u for error
// messages: provider result URLs often carry signatures in the query, and
// these messages can reach logs and clients.
func redact(u *url.URL) string {
	c := *u
	c.User = nil
	c.RawQuery = ""
	c.ForceQuery = false
	c.Fragment = ""
	c.RawFragment = ""
	return c.String()
}
