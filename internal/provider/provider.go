// Package provider holds what the typed provider clients (ark, kling,
// stability) share about talking to an HTTP API: the base URL they append
// paths to, the short message made of a body that is not the provider's
// error JSON, and keeping the key out of error text. Each client keeps its
// own error types and its own classification of them.
package provider

import (
	"cmp"
	"strings"
)

// maxBodyMessage is how many bytes of a body an error message keeps.
const maxBodyMessage = 200

// BaseURL returns configured, or def when it is empty, without trailing
// slashes, so operation paths can be appended to it.
func BaseURL(configured, def string) string {
	return strings.TrimRight(cmp.Or(configured, def), "/")
}

// TrimBody makes a short single-line message out of a reply body that is
// not the provider's error JSON (an HTML page from a proxy, plain text):
// white space folded, cut at 200 bytes, "empty body" when there is none.
func TrimBody(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > maxBodyMessage {
		s = s[:maxBodyMessage] + "…"
	}
	if s == "" {
		s = "empty body"
	}
	return s
}

// Redact replaces key in s with "[redacted]", should a server, a proxy or
// a misconfigured base URL ever echo it back into an error. An empty key
// changes nothing.
func Redact(s, key string) string {
	if key == "" {
		return s
	}
	return strings.ReplaceAll(s, key, "[redacted]")
}
