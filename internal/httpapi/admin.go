package httpapi

import (
	"cmp"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"riverqueue.com/riverui"

	"github.com/lepus-ai/lepus/internal/auth"
	problemjson "github.com/lepus-ai/lepus/internal/problem" // httpapi has a problem func of its own
)

// RiverUIPath is where the River UI (the queue view) is mounted.
const RiverUIPath = "/admin/river"

// AdminSignInPath is the admin area's sign-in form: a browser posts
// LEPUS_ADMIN_TOKEN (or an admin JWT) there in the body, never in a URL.
const AdminSignInPath = "/admin/sign-in"

// adminCookie holds a browser's admin session.
const adminCookie = "lepus_admin"

// maxSignInBody bounds the sign-in form: one token.
const maxSignInBody = 8 << 10

// Admin is the admin area: the River UI, open only to an admin credential.
// A credential is LEPUS_ADMIN_TOKEN or a JWT with "lepus_role": "admin",
// sent as "Authorization: Bearer <credential>". A browser signs in once and
// gets an HttpOnly, SameSite=Strict session cookie: with either credential
// through the form at AdminSignInPath (POST, the credential in the body),
// or with an admin JWT in /admin/river/?token=<jwt>. The URL takes JWTs
// only: URLs land in proxy logs and browser history, where a short-lived
// JWT does little harm and the long-lived admin token would. Anything else
// is answered 401.
type Admin struct {
	// Token is LEPUS_ADMIN_TOKEN; "" accepts admin JWTs only.
	Token string
	// Auth verifies admin JWTs and signs the browser sessions.
	Auth *auth.Signer
	// River is the River UI, built by NewRiverUI.
	River http.Handler
	// SessionTTL is how long a browser session opened with Token lasts
	// (one opened with a JWT ends with the JWT). Default 12 h.
	SessionTTL time.Duration
	Logger     *slog.Logger
}

// mountAdmin mounts the admin area; a nil Admin mounts nothing (404).
func mountAdmin(mux *http.ServeMux, a *Admin) {
	if a == nil {
		return
	}
	mux.Handle(RiverUIPath+"/", a.gate(a.River))
	mux.HandleFunc("GET "+AdminSignInPath, a.signInForm)
	mux.HandleFunc("POST "+AdminSignInPath, a.signIn)
}

// NewRiverUI builds the River UI on client, served under RiverUIPath, and
// starts its background count caches until ctx ends. River UI reads River's
// tables through the client's own driver, so it works on SQLite
// (riversqlite) and on Postgres (riverdatabasesql) alike.
func NewRiverUI[TTx any](ctx context.Context, client *river.Client[TTx], logger *slog.Logger) (http.Handler, error) {
	h, err := riverui.NewHandler(&riverui.HandlerOpts{
		Endpoints: riverui.NewEndpoints(client, nil),
		Logger:    logger.With("component", "river_ui"),
		Prefix:    RiverUIPath,
	})
	if err != nil {
		return nil, fmt.Errorf("river ui: %w", err)
	}
	if err := h.Start(ctx); err != nil {
		return nil, fmt.Errorf("start river ui: %w", err)
	}
	return h, nil
}

// gate lets a request through to next only with an admin credential.
func (a *Admin) gate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		adminHeaders(w)
		if tok := r.URL.Query().Get("token"); tok != "" && r.Method == http.MethodGet {
			a.exchange(w, r, tok)
			return
		}
		if h := r.Header.Get("Authorization"); h != "" {
			tok, ok := auth.BearerToken(h)
			if !ok {
				adminUnauthorized(w, "send the admin credential as Authorization: Bearer <credential>")
				return
			}
			if _, err := a.check(tok); err != nil {
				adminUnauthorized(w, err.Error())
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		if c, err := r.Cookie(adminCookie); err == nil {
			if err := a.checkSession(c.Value); err != nil {
				http.SetCookie(w, a.cookie(r, "", -1))
				adminUnauthorized(w, "admin session ended ("+err.Error()+"): sign in again at "+AdminSignInPath)
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		adminUnauthorized(w, "admin credential required: send Authorization: Bearer <LEPUS_ADMIN_TOKEN or a JWT from lepus token --admin>, or sign in at "+AdminSignInPath+" in a browser")
	})
}

// adminHeaders: the admin pages are never framed (clickjacking) and never
// leak their URL, which may hold ?token=, to another site.
func adminHeaders(w http.ResponseWriter) {
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Referrer-Policy", "no-referrer")
}

// check accepts the admin token or an admin JWT; static reports which.
func (a *Admin) check(tok string) (static bool, err error) {
	if a.Token != "" && equalSecret(tok, a.Token) {
		return true, nil
	}
	if err := a.checkJWT(tok); err != nil {
		if err.Error() == "invalid token" {
			return false, errors.New("invalid admin credential: neither LEPUS_ADMIN_TOKEN nor a valid admin JWT")
		}
		return false, err
	}
	return false, nil
}

// checkJWT accepts an admin JWT; its errors are safe to show.
func (a *Admin) checkJWT(tok string) error {
	_, err := a.Auth.VerifyAdmin(tok)
	var ae *auth.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ae) && ae.Message == "not an admin token":
		return errors.New(`not an admin token: it has no "lepus_role": "admin" claim (sign one with lepus token --admin)`)
	case errors.As(err, &ae):
		return errors.New(ae.Message)
	default:
		return errors.New("invalid token")
	}
}

// checkSession accepts a session cookie: a session bound to the current
// admin token, or an admin JWT (a session opened with one).
func (a *Admin) checkSession(v string) error {
	if a.Token != "" && a.Auth.VerifySession(v, a.Token) == nil {
		return nil
	}
	return a.checkJWT(v)
}

// exchange trades ?token=<admin JWT> for the session cookie, then sends the
// browser on to the same page without the token. The hop is an HTML page
// rather than a redirect: a SameSite=Strict cookie is not sent on a
// redirect that began with a link on another site, but it is on a
// same-site refresh.
func (a *Admin) exchange(w http.ResponseWriter, r *http.Request, tok string) {
	if err := a.checkJWT(tok); err != nil {
		adminUnauthorized(w, "?token= takes a short-lived admin JWT only ("+err.Error()+"); sign in with LEPUS_ADMIN_TOKEN at "+AdminSignInPath)
		return
	}
	http.SetCookie(w, a.cookie(r, tok, 0)) // ends with the browser or the JWT
	q := r.URL.Query()
	q.Del("token")
	next := r.URL.Path // a path under RiverUIPath: never another site
	if len(q) > 0 {
		next += "?" + q.Encode()
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	u := html.EscapeString(next)
	fmt.Fprintf(w, `<!doctype html><meta http-equiv="refresh" content="0;url=%s"><title>Lepus admin</title><p>Signed in. <a href="%s">Continue</a>.</p>`, u, u)
}

// signInPage is the sign-in form: no script, no style, posting to itself.
const signInPage = `<!doctype html><html lang="en"><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Lepus admin sign-in</title><h1>Lepus admin</h1>
<form method="post" action="` + AdminSignInPath + `"><label>LEPUS_ADMIN_TOKEN or admin JWT
<input type="password" name="token" required autocomplete="current-password" autofocus></label>
<button type="submit">Sign in</button></form></html>
`

func (a *Admin) signInForm(w http.ResponseWriter, _ *http.Request) {
	adminHeaders(w)
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	_, _ = w.Write([]byte(signInPage))
}

// signIn takes the credential from the form body and opens a session: for
// the admin token a session signed by auth.SignSession (never the token
// itself; it ends at SessionTTL or when the admin token changes), for a
// JWT the JWT (the session ends with it). Then 303 to the River UI.
func (a *Admin) signIn(w http.ResponseWriter, r *http.Request) {
	adminHeaders(w)
	r.Body = http.MaxBytesReader(w, r.Body, maxSignInBody)
	if err := r.ParseForm(); err != nil {
		problemjson.Write(w, http.StatusBadRequest, "send the form as application/x-www-form-urlencoded, at most 8 KiB",
			problemjson.Field("body", "not a form"))
		return
	}
	tok := strings.TrimSpace(r.PostForm.Get("token"))
	if tok == "" {
		problemjson.Write(w, http.StatusBadRequest, "token is required", problemjson.Field("body.token", "required"))
		return
	}
	static, err := a.check(tok)
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="lepus-admin"`)
		problemjson.Write(w, http.StatusUnauthorized, err.Error(), problemjson.Field("body.token", err.Error()))
		return
	}
	session, maxAge := tok, 0
	if static {
		ttl := cmp.Or(a.SessionTTL, 12*time.Hour)
		if session, err = a.Auth.SignSession(a.Token, ttl); err != nil {
			a.Logger.Error("sign admin session", "error", err)
			problemjson.Write(w, http.StatusInternalServerError, "internal error")
			return
		}
		maxAge = int(ttl / time.Second)
	}
	http.SetCookie(w, a.cookie(r, session, maxAge))
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, RiverUIPath+"/", http.StatusSeeOther)
}

// cookie is the admin session cookie; maxAge < 0 deletes it. Secure when
// the request came over TLS, directly or through a proxy.
func (a *Admin) cookie(r *http.Request, value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name: adminCookie, Value: value, Path: RiverUIPath, MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https"),
	}
}

// equalSecret compares in constant time; hashing first hides the length.
func equalSecret(got, want string) bool {
	g, w := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}

// adminUnauthorized writes a 401 problem+json asking for a bearer token.
func adminUnauthorized(w http.ResponseWriter, detail string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="lepus-admin"`)
	problemjson.Write(w, http.StatusUnauthorized, detail)
}
