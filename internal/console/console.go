// Package console is Lepus's web console: one page of plain HTML, CSS and
// JavaScript modules, embedded in the binary and served at /console/, that
// signs in with a bearer token and drives the public API (uploads, the
// workflows, task events, assets, avatars, credits) as a person would.
//
// It is vanilla JavaScript on purpose: no build step, no framework, no
// network access beyond this server, so `go build` is all it needs and the
// page works offline. It calls only the public API; the one route of its
// own is the sandbox's developer sign-in.
package console

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/lepus-ai/lepus/internal/auth"
	"github.com/lepus-ai/lepus/internal/problem"
)

//go:embed static
var staticFS embed.FS

// Prefix is where the console is mounted.
const Prefix = "/console/"

// CSP keeps the page to this server's own scripts and styles. Results are
// shown from blob: URLs: assets need the bearer token, so the page fetches
// them and hands the bytes to <img> and <video>.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; " +
	"media-src 'self' blob:; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"

// DevUser is the user the sandbox's developer sign-in acts as: one user,
// so what a developer made is still there after signing in again.
const DevUser = "console-dev"

// DevTokenTTL is how long a developer sign-in lasts.
const DevTokenTTL = time.Hour

// Config is what the console needs.
type Config struct {
	// Signer mints the developer sign-in's tokens.
	Signer *auth.Signer
	// DevSignIn serves POST /console/dev-token, a one-click sign-in as
	// DevUser for anyone who can reach it. Default off: the route does not
	// exist. The caller turns it on only in sandbox mode and only when the
	// server listens on a loopback address or LEPUS_CONSOLE_DEV_SIGNIN says
	// so (config.Config.ConsoleDevSignIn).
	DevSignIn bool
	// PublicURL is this server's base URL (LEPUS_PUBLIC_URL). The sign-in
	// answers a request whose Host is its host or a loopback name, and
	// refuses any other (DNS rebinding).
	PublicURL string
	// Logger records failures (never a token). Default: slog.Default().
	Logger *slog.Logger
}

// types are the console's content types: a table of its own rather than
// mime.TypeByExtension, which the host's mime.types can change.
var types = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
}

// file is one embedded asset, ready to serve.
type file struct {
	data  []byte
	etag  string
	ctype string
}

// Handler serves the console under Prefix. Mount it on "/console/"; the
// ServeMux sends /console there.
func Handler(cfg Config) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	files := loadFiles()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, Prefix)
		if name == "dev-token" && cfg.DevSignIn && cfg.Signer != nil {
			devToken(w, r, cfg)
			return
		}
		if name == "" {
			name = "index.html"
		}
		f, ok := files[name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("Content-Type", f.ctype)
		h.Set("Content-Security-Policy", CSP)
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cache-Control", "no-cache") // revalidate: the ETag makes it cheap
		h.Set("ETag", f.etag)
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.data))
	})
}

// loadFiles reads every embedded asset once, with its type and ETag.
func loadFiles() map[string]file {
	files := map[string]file{}
	root, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic("console: " + err.Error()) // the embed directive guarantees it
	}
	err = fs.WalkDir(root, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(root, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		ctype, ok := types[path.Ext(p)]
		if !ok {
			return fmt.Errorf("%s: no content type for its extension", p)
		}
		files[p] = file{data: data, etag: `"` + hex.EncodeToString(sum[:8]) + `"`, ctype: ctype}
		return nil
	})
	if err != nil {
		panic("console: read embedded files: " + err.Error())
	}
	return files
}

// devToken mints a short-lived token for DevUser. A new user starts with
// the configured credits, so the token is ready to run workflows. Only the
// console's own page, loaded from this server, may ask: in sandbox mode
// CORS allows any origin, and another site must not get a token by posting
// here from a browser, nor by rebinding its DNS name to this server.
func devToken(w http.ResponseWriter, r *http.Request, cfg Config) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		problem.Write(w, http.StatusMethodNotAllowed, "use POST")
		return
	}
	if !cfg.ownHost(r.Host) {
		// DNS rebinding: another site's name pointed at this server
		// arrives with that name in Host.
		problem.Write(w, http.StatusForbidden,
			"the developer sign-in answers only at this server's own address (localhost or the host of LEPUS_PUBLIC_URL)",
			problem.Field("header.Host", "not this server's address"))
		return
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site != "same-origin" {
		msg := "must be same-origin"
		if site == "" {
			msg = "required"
		}
		problem.Write(w, http.StatusForbidden,
			"the developer sign-in is for the console of this server only: browsers mark its requests Sec-Fetch-Site: same-origin "+
				"(over HTTPS and on localhost); elsewhere sign in with a token from lepus token",
			problem.Field("header.Sec-Fetch-Site", msg))
		return
	}
	if origin := r.Header.Get("Origin"); origin != "" && !sameHost(origin, r.Host) {
		problem.Write(w, http.StatusForbidden, "the developer sign-in is for the console of this server only",
			problem.Field("header.Origin", "another site"))
		return
	}
	tok, err := cfg.Signer.Sign(DevUser, DevTokenTTL)
	if err != nil {
		cfg.Logger.Error("console: sign developer token", "error", err)
		problem.Write(w, http.StatusInternalServerError, "internal error")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"token": tok, "user": DevUser, "expires_in": int(DevTokenTTL / time.Second),
	})
}

// ownHost reports whether host (a request's Host) names this server: a
// loopback name or address (no other site can make a browser send those),
// or the host of PublicURL.
func (c Config) ownHost(host string) bool {
	if host == "" {
		return false
	}
	if loopbackHost(host) {
		return true
	}
	u, err := url.Parse(c.PublicURL)
	return err == nil && u.Host != "" && strings.EqualFold(withPort(u.Host, u.Scheme), withPort(host, u.Scheme))
}

// loopbackHost reports whether hostport is localhost or a loopback address.
func loopbackHost(hostport string) bool {
	h := hostport
	if hh, _, err := net.SplitHostPort(hostport); err == nil {
		h = hh
	}
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// withPort adds scheme's default port to a host without one, so
// "example.com" and "example.com:443" compare equal over https.
func withPort(hostport, scheme string) string {
	if _, _, err := net.SplitHostPort(hostport); err == nil {
		return hostport
	}
	if scheme == "https" {
		return net.JoinHostPort(strings.Trim(hostport, "[]"), "443")
	}
	return net.JoinHostPort(strings.Trim(hostport, "[]"), "80")
}

// sameHost reports whether an Origin header names host.
func sameHost(origin, host string) bool {
	u, err := url.Parse(origin)
	return err == nil && u.Host != "" && strings.EqualFold(u.Host, host)
}
