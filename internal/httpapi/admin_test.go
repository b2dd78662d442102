package httpapi

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lepus-ai/lepus/internal/auth"
)

const testAdminToken = "admin-token-0123456789"

// adminBundle is the admin area with a stand-in River UI that answers
// "river ui" (River UI itself is exercised end to end in cmd/lepus).
type adminBundle struct {
	mux    *http.ServeMux
	signer *auth.Signer
}

func newAdminBundle(t *testing.T, token string) *adminBundle {
	t.Helper()
	signer, err := auth.NewSigner([]byte("admin-test-secret-admin-test-secret"), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	river := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "river ui") })
	mux := http.NewServeMux()
	mountAdmin(mux, &Admin{Token: token, Auth: signer, River: river, Logger: slog.New(slog.DiscardHandler)})
	return &adminBundle{mux: mux, signer: signer}
}

func (b *adminBundle) get(t *testing.T, target string, header map[string]string, cookies ...*http.Cookie) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, target, nil)
	for k, v := range header {
		r.Header.Set(k, v)
	}
	for _, c := range cookies {
		r.AddCookie(c)
	}
	w := httptest.NewRecorder()
	b.mux.ServeHTTP(w, r)
	return w
}

func (b *adminBundle) sign(t *testing.T, admin bool) string {
	t.Helper()
	sign := b.signer.Sign
	if admin {
		sign = b.signer.SignAdmin
	}
	tok, err := sign("ops", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// wantUnauthorized checks a 401 problem+json whose detail holds want.
func wantUnauthorized(t *testing.T, w *httptest.ResponseRecorder, want string) {
	t.Helper()
	var p struct {
		Status int
		Detail string
	}
	if w.Code != http.StatusUnauthorized || w.Header().Get("Content-Type") != "application/problem+json" ||
		json.Unmarshal(w.Body.Bytes(), &p) != nil || p.Status != 401 || !strings.Contains(p.Detail, want) {
		t.Fatalf("got %d %s %s; want 401 problem+json mentioning %q", w.Code, w.Header().Get("Content-Type"), w.Body, want)
	}
	if strings.Contains(w.Body.String(), testAdminToken) {
		t.Fatal("the answer repeats the admin token")
	}
}

func TestAdmin_Gate(t *testing.T) {
	t.Parallel()
	b := newAdminBundle(t, testAdminToken)
	bearer := func(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }

	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		for name, tok := range map[string]string{"token": testAdminToken, "jwt": b.sign(t, true)} {
			w := b.get(t, "/admin/river/api/jobs", bearer(tok))
			if w.Code != 200 || w.Body.String() != "river ui" {
				t.Fatalf("%s: %d %s; want the River UI", name, w.Code, w.Body)
			}
			if w.Header().Get("X-Frame-Options") != "DENY" {
				t.Fatalf("%s: admin pages may be framed", name)
			}
		}
	})
	for _, tc := range []struct {
		name   string
		header map[string]string
		want   string
	}{
		{"ErrNoCredential", nil, "admin credential required"},
		{"ErrWrongToken", bearer(testAdminToken + "x"), "invalid admin credential"},
		{"ErrUserJWT", bearer(b.sign(t, false)), "not an admin token"},
		{"ErrBasicAuth", map[string]string{"Authorization": "Basic YWRtaW46YWRtaW4="}, "Authorization: Bearer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			wantUnauthorized(t, b.get(t, "/admin/river/", tc.header), tc.want)
		})
	}
	t.Run("ErrOutsideAdmin", func(t *testing.T) {
		t.Parallel()
		if w := b.get(t, "/admin/other", bearer(testAdminToken)); w.Code != http.StatusNotFound {
			t.Fatalf("/admin/other: %d; want 404 (only /admin/river/ is mounted)", w.Code)
		}
	})
}

func TestAdmin_NoToken(t *testing.T) {
	t.Parallel()
	b := newAdminBundle(t, "") // LEPUS_ADMIN_TOKEN unset: admin JWTs only
	wantUnauthorized(t, b.get(t, "/admin/river/", nil), "admin credential required")
	// An empty admin token must never match an empty or odd credential.
	wantUnauthorized(t, b.get(t, "/admin/river/?token=%20", nil), "admin JWT only")
	wantUnauthorized(t, b.get(t, "/admin/river/", map[string]string{"Authorization": "Bearer x"}), "invalid admin credential")
	wantUnauthorized(t, b.postForm(t, "token=x"), "invalid admin credential")
	if w := b.get(t, "/admin/river/", map[string]string{"Authorization": "Bearer " + b.sign(t, true)}); w.Code != 200 {
		t.Fatalf("admin JWT: %d", w.Code)
	}
}

// postForm posts the sign-in form.
func (b *adminBundle) postForm(t *testing.T, form string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, AdminSignInPath, strings.NewReader(form))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	b.mux.ServeHTTP(w, r)
	return w
}

// sessionCookie is the one cookie w set, checked for its attributes.
func sessionCookie(t *testing.T, w *httptest.ResponseRecorder, wantMaxAge bool) *http.Cookie {
	t.Helper()
	cookies := w.Result().Cookies()
	if len(cookies) != 1 {
		t.Fatalf("cookies %v; want one", cookies)
	}
	c := cookies[0]
	if c.Name != adminCookie || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != RiverUIPath || (c.MaxAge > 0) != wantMaxAge {
		t.Fatalf("cookie %+v; want HttpOnly, SameSite=Strict, Path=%s, lifetime set %v", c, RiverUIPath, wantMaxAge)
	}
	return c
}

// TestAdmin_Exchange: ?token= takes an admin JWT only; LEPUS_ADMIN_TOKEN in
// a URL (proxy logs, history) is refused and opens nothing.
func TestAdmin_Exchange(t *testing.T) {
	t.Parallel()
	b := newAdminBundle(t, testAdminToken)

	t.Run("OKJWT", func(t *testing.T) {
		t.Parallel()
		jwt := b.sign(t, true)
		w := b.get(t, "/admin/river/jobs?state=running&token="+jwt, nil)
		if w.Code != 200 || !strings.Contains(w.Body.String(), `url=/admin/river/jobs?state=running"`) {
			t.Fatalf("exchange: %d %s; want a page leading to the URL without the token", w.Code, w.Body)
		}
		if strings.Contains(w.Body.String(), jwt) {
			t.Fatal("the exchange page repeats the token")
		}
		if c := sessionCookie(t, w, false); c.Value != jwt {
			t.Fatalf("cookie %q; want the JWT, ending with the browser session", c.Value)
		}
	})
	for _, tc := range []struct{ name, token, want string }{
		{"ErrAdminToken", testAdminToken, "sign in with LEPUS_ADMIN_TOKEN at " + AdminSignInPath},
		{"ErrWrongToken", "nope", "admin JWT only"},
		{"ErrUserJWT", b.sign(t, false), "not an admin token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := b.get(t, "/admin/river/?token="+tc.token, nil)
			wantUnauthorized(t, w, tc.want)
			if len(w.Result().Cookies()) != 0 {
				t.Fatal("a refused exchange set a cookie")
			}
		})
	}
	t.Run("ErrBadCookie", func(t *testing.T) {
		t.Parallel()
		other, err := b.signer.SignSession(testAdminToken+"-old", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range []string{testAdminToken, b.sign(t, false), "garbage", other} {
			w := b.get(t, "/admin/river/", nil, &http.Cookie{Name: adminCookie, Value: v})
			wantUnauthorized(t, w, "admin session ended")
			if cs := w.Result().Cookies(); len(cs) != 1 || cs[0].MaxAge >= 0 {
				t.Fatalf("cookies %v; want the session cookie deleted", cs)
			}
		}
	})
}

// TestAdmin_SignIn: the form takes LEPUS_ADMIN_TOKEN in the body and opens
// a session that is no user token and ends when the admin token changes.
func TestAdmin_SignIn(t *testing.T) {
	t.Parallel()
	b := newAdminBundle(t, testAdminToken)

	t.Run("Form", func(t *testing.T) {
		t.Parallel()
		w := b.get(t, AdminSignInPath, nil)
		if w.Code != 200 || !strings.Contains(w.Body.String(), `<form method="post" action="/admin/sign-in">`) ||
			!strings.Contains(w.Body.String(), `name="token"`) || !strings.Contains(w.Header().Get("Content-Security-Policy"), "form-action 'self'") {
			t.Fatalf("sign-in page: %d %v %s", w.Code, w.Header(), w.Body)
		}
	})
	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		w := b.postForm(t, "token="+testAdminToken)
		if w.Code != http.StatusSeeOther || w.Header().Get("Location") != RiverUIPath+"/" {
			t.Fatalf("sign-in: %d %v", w.Code, w.Header())
		}
		c := sessionCookie(t, w, true)
		if c.Value == testAdminToken || strings.Contains(w.Body.String(), testAdminToken) {
			t.Fatal("the admin token itself went back to the browser")
		}
		if r := b.get(t, "/admin/river/api/jobs", nil, c); r.Code != 200 || r.Body.String() != "river ui" {
			t.Fatalf("with the session: %d %s", r.Code, r.Body)
		}
		// The session is no bearer token of any user, nor an admin JWT.
		if user, err := b.signer.Verify(c.Value); err == nil {
			t.Fatalf("the session is a valid token of user %q", user)
		}
		if r := b.get(t, "/admin/river/", map[string]string{"Authorization": "Bearer " + c.Value}); r.Code != http.StatusUnauthorized {
			t.Fatalf("the session as a bearer credential: %d", r.Code)
		}
		// Rotating LEPUS_ADMIN_TOKEN ends it.
		rotated := http.NewServeMux()
		mountAdmin(rotated, &Admin{Token: testAdminToken + "-new", Auth: b.signer, River: http.NotFoundHandler(), Logger: slog.New(slog.DiscardHandler)})
		r := httptest.NewRequest(http.MethodGet, "/admin/river/", nil)
		r.AddCookie(c)
		rw := httptest.NewRecorder()
		rotated.ServeHTTP(rw, r)
		wantUnauthorized(t, rw, "admin session ended")
	})
	t.Run("OKJWT", func(t *testing.T) {
		t.Parallel()
		jwt := b.sign(t, true)
		w := b.postForm(t, "token="+jwt)
		if c := sessionCookie(t, w, false); w.Code != http.StatusSeeOther || c.Value != jwt {
			t.Fatalf("sign-in with a JWT: %d %v", w.Code, c)
		}
	})
	for _, tc := range []struct {
		name, form string
		status     int
		want       string
	}{
		{"ErrWrongToken", "token=nope", 401, "invalid admin credential"},
		{"ErrUserJWT", "token=" + b.sign(t, false), 401, "not an admin token"},
		{"ErrNoToken", "user=x", 400, "token is required"},
		{"ErrTooBig", "token=" + strings.Repeat("x", maxSignInBody), 400, "at most 8 KiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := b.postForm(t, tc.form)
			var p struct {
				Status int
				Detail string
				Errors []struct{ Location string }
			}
			if w.Code != tc.status || json.Unmarshal(w.Body.Bytes(), &p) != nil || !strings.Contains(p.Detail, tc.want) ||
				len(p.Errors) != 1 || !strings.HasPrefix(p.Errors[0].Location, "body") || len(w.Result().Cookies()) != 0 {
				t.Fatalf("%d %s; want %d naming the body's token, mentioning %q, no cookie", w.Code, w.Body, tc.status, tc.want)
			}
		})
	}
}
