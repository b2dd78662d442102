package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

var (
	testSecret = []byte("0123456789abcdef0123456789abcdef-test")
	t0         = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
)

// newSigner returns a Signer whose clock reads *now.
func newSigner(t *testing.T, now *time.Time) *Signer {
	t.Helper()
	s, err := NewSigner(testSecret, func() time.Time { return *now })
	if err != nil {
		t.Fatalf("new signer: %v", err)
	}
	return s
}

// signMap signs arbitrary claims with method and key, for tokens Sign
// would never produce.
func signMap(t *testing.T, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return tok
}

func validClaims() jwt.MapClaims {
	return jwt.MapClaims{"sub": "user-1", "aud": "authenticated", "iat": t0.Unix(), "exp": t0.Add(time.Hour).Unix()}
}

func b64(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

// signRaw signs header and the payload text as given with HS256 and
// testSecret, for payloads json.Marshal would never produce.
func signRaw(t *testing.T, header map[string]any, payload string) string {
	t.Helper()
	unsigned := b64(header) + "." + base64.RawURLEncoding.EncodeToString([]byte(payload))
	mac := hmac.New(sha256.New, testSecret)
	mac.Write([]byte(unsigned))
	return unsigned + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

func mustMarshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func TestSigner_SignVerify(t *testing.T) {
	t.Parallel()
	now := t0
	s := newSigner(t, &now)
	tok, err := s.Sign("user-42", time.Hour)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	got, err := s.Verify(tok)
	if err != nil || got != "user-42" {
		t.Fatalf("Verify = %q, %v", got, err)
	}

	// The claims look like Supabase's: aud and role plain strings.
	parts := strings.Split(tok, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatalf("decode payload: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatalf("unmarshal payload: %v", err)
	}
	want := map[string]any{
		"sub": "user-42", "aud": "authenticated", "role": "authenticated",
		"iat": float64(t0.Unix()), "exp": float64(t0.Add(time.Hour).Unix()),
	}
	for k, v := range want {
		if claims[k] != v {
			t.Errorf("claim %s = %#v, want %#v", k, claims[k], v)
		}
	}
	header, _ := base64.RawURLEncoding.DecodeString(parts[0])
	if !strings.Contains(string(header), `"alg":"HS256"`) {
		t.Errorf("header = %s", header)
	}
}

func TestSigner_Verify(t *testing.T) {
	t.Parallel()
	otherSecret := []byte("another-secret-another-secret-another")
	forgedRS256 := func() string {
		// Algorithm confusion: claim RS256 but sign with the HMAC secret.
		unsigned := b64(map[string]string{"alg": "RS256", "typ": "JWT"}) + "." + b64(validClaims())
		mac := hmac.New(sha256.New, testSecret)
		mac.Write([]byte(unsigned))
		return unsigned + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
	}
	noExp := validClaims()
	delete(noExp, "exp")
	noSub := validClaims()
	delete(noSub, "sub")
	blankSub := validClaims()
	blankSub["sub"] = " "
	anon := validClaims()
	anon["aud"] = "anon"
	arrayAud := validClaims()
	arrayAud["aud"] = []string{"other", "authenticated"}
	with := func(k string, v any) jwt.MapClaims {
		c := validClaims()
		c[k] = v
		return c
	}
	hs256 := func(c jwt.MapClaims) func(t *testing.T) string {
		return func(t *testing.T) string { return signMap(t, jwt.SigningMethodHS256, testSecret, c) }
	}
	exp, iat := strconv.FormatInt(t0.Add(time.Hour).Unix(), 10), strconv.FormatInt(t0.Unix(), 10)

	tests := []struct {
		name  string
		token func(t *testing.T) string
		now   time.Time
		want  string // user id, or the error message when err is expected
		ok    bool
	}{
		{"OK", func(t *testing.T) string { return signMap(t, jwt.SigningMethodHS256, testSecret, validClaims()) }, t0, "user-1", true},
		{"OKAudienceArray", func(t *testing.T) string { return signMap(t, jwt.SigningMethodHS256, testSecret, arrayAud) }, t0, "user-1", true},
		{"OKWithinLeeway", func(t *testing.T) string { return signMap(t, jwt.SigningMethodHS256, testSecret, validClaims()) }, t0.Add(time.Hour + 10*time.Second), "user-1", true},
		{"ErrExpired", func(t *testing.T) string { return signMap(t, jwt.SigningMethodHS256, testSecret, validClaims()) }, t0.Add(2 * time.Hour), "token expired", false},
		{"ErrWrongSecret", func(t *testing.T) string { return signMap(t, jwt.SigningMethodHS256, otherSecret, validClaims()) }, t0, "invalid token", false},
		{"ErrAlgNone", func(t *testing.T) string {
			return signMap(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, validClaims())
		}, t0, "invalid token", false},
		{"ErrAlgRS256", func(t *testing.T) string { return forgedRS256() }, t0, "invalid token", false},
		{"ErrAlgHS512", func(t *testing.T) string { return signMap(t, jwt.SigningMethodHS512, testSecret, validClaims()) }, t0, "invalid token", false},
		{"ErrNoExp", func(t *testing.T) string { return signMap(t, jwt.SigningMethodHS256, testSecret, noExp) }, t0, "invalid token", false},
		{"ErrNoSub", func(t *testing.T) string { return signMap(t, jwt.SigningMethodHS256, testSecret, noSub) }, t0, "invalid token", false},
		{"ErrBlankSub", func(t *testing.T) string { return signMap(t, jwt.SigningMethodHS256, testSecret, blankSub) }, t0, "invalid token", false},
		{"ErrAudience", func(t *testing.T) string { return signMap(t, jwt.SigningMethodHS256, testSecret, anon) }, t0, "invalid token", false},
		{"ErrGarbage", func(t *testing.T) string { return "not.a.jwt" }, t0, "invalid token", false},
		{"OKSupabase", func(t *testing.T) string {
			return signRaw(t, map[string]any{"alg": "HS256", "typ": "JWT", "kid": "Ab12Cd34"}, `{"iss":"https://abcdefgh.supabase.co/auth/v1",`+
				`"sub":"8f2c1a9e-3b4d-4c5e-9f60-7a8b9c0d1e2f","aud":"authenticated","exp":`+exp+`,"iat":`+iat+`,"email":"ana@example.com",`+
				`"phone":"","app_metadata":{"provider":"email","providers":["email"]},"user_metadata":{},"role":"authenticated",`+
				`"aal":"aal1","amr":[{"method":"password","timestamp":`+iat+`}],"session_id":"0b7f5b0e-1c2d-4e3f-8a9b-0c1d2e3f4a5b","is_anonymous":false}`)
		}, t0, "8f2c1a9e-3b4d-4c5e-9f60-7a8b9c0d1e2f", true},
		{"OKNonASCIISub", hs256(with("sub", "usér-1")), t0, "usér-1", true},
		{"OKSub255", hs256(with("sub", strings.Repeat("u", 255))), t0, strings.Repeat("u", 255), true},
		{"OKIatWithinLeeway", hs256(with("iat", t0.Add(20*time.Second).Unix())), t0, "user-1", true},
		{"OKNbfWithinLeeway", hs256(with("nbf", t0.Add(20*time.Second).Unix())), t0, "user-1", true},
		{"OKFractionalExp", hs256(with("exp", float64(t0.Add(time.Hour).Unix())+0.5)), t0, "user-1", true},
		{"ErrSubNUL", hs256(with("sub", "user\x00-1")), t0, "invalid token", false},
		{"ErrSubNewline", hs256(with("sub", "user-1\n")), t0, "invalid token", false},
		{"ErrSubC1", hs256(with("sub", "user\u0085")), t0, "invalid token", false},
		{"ErrSubReplacementChar", hs256(with("sub", "user\uFFFD")), t0, "invalid token", false},
		{"ErrSubNonUTF8", func(t *testing.T) string {
			return signRaw(t, map[string]any{"alg": "HS256"}, `{"sub":"user-`+"\xe9"+`","aud":"authenticated","exp":`+exp+`}`)
		}, t0, "invalid token", false},
		{"ErrSubTooLong", hs256(with("sub", strings.Repeat("u", 256))), t0, "invalid token", false},
		{"ErrStringExp", hs256(with("exp", exp)), t0, "invalid token", false},
		{"ErrNullExp", func(t *testing.T) string {
			return signRaw(t, map[string]any{"alg": "HS256"}, `{"sub":"user-1","aud":"authenticated","exp":null}`)
		}, t0, "invalid token", false},
		{"ErrStringIat", hs256(with("iat", iat)), t0, "invalid token", false},
		{"ErrStringNbf", hs256(with("nbf", iat)), t0, "invalid token", false},
		{"ErrFutureIat", hs256(with("iat", t0.Add(time.Minute).Unix())), t0, "invalid token", false},
		{"ErrFutureNbf", hs256(with("nbf", t0.Add(time.Minute).Unix())), t0, "invalid token", false},
		{"ErrCritUnknown", func(t *testing.T) string {
			return signRaw(t, map[string]any{"alg": "HS256", "crit": []string{"x-lepus"}, "x-lepus": true}, string(mustMarshal(validClaims())))
		}, t0, "invalid token", false},
		{"ErrCritEmpty", func(t *testing.T) string {
			return signRaw(t, map[string]any{"alg": "HS256", "crit": []string{}}, string(mustMarshal(validClaims())))
		}, t0, "invalid token", false},
		{"ErrEmpty", func(t *testing.T) string { return "" }, t0, "invalid token", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			now := tt.now
			s := newSigner(t, &now)
			got, err := s.Verify(tt.token(t))
			if tt.ok {
				if err != nil || got != tt.want {
					t.Fatalf("Verify = %q, %v; want %q", got, err, tt.want)
				}
				return
			}
			var ae *Error
			if !errors.As(err, &ae) {
				t.Fatalf("err = %v (%T), want *Error", err, err)
			}
			if ae.Message != tt.want || err.Error() != tt.want {
				t.Errorf("message = %q, want %q", ae.Message, tt.want)
			}
			if got != "" {
				t.Errorf("user id %q returned with an error", got)
			}
		})
	}
}

func TestSigner_ExpiresAfterTTL(t *testing.T) {
	t.Parallel()
	now := t0
	s := newSigner(t, &now)
	tok, err := s.Sign("u", 10*time.Minute)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	now = t0.Add(9 * time.Minute)
	if _, err := s.Verify(tok); err != nil {
		t.Fatalf("before expiry: %v", err)
	}
	now = t0.Add(11 * time.Minute)
	if _, err := s.Verify(tok); !errors.Is(err, jwt.ErrTokenExpired) {
		t.Fatalf("after expiry: err = %v, want one wrapping jwt.ErrTokenExpired", err)
	}
}

func TestNewSigner_Err(t *testing.T) {
	t.Parallel()
	if _, err := NewSigner(make([]byte, 31), nil); err == nil {
		t.Error("31-byte secret accepted")
	}
	s, err := NewSigner(make([]byte, 32), nil)
	if err != nil {
		t.Fatalf("32-byte secret: %v", err)
	}
	for _, id := range []string{"", " ", "u\x00", "u\n", strings.Repeat("u", 256), "u\xe9"} {
		if _, err := s.Sign(id, time.Hour); err == nil {
			t.Errorf("user id %q signed", id)
		}
	}
	if _, err := s.Sign("u", 0); err == nil {
		t.Error("zero ttl signed")
	}
}

func TestBearerToken(t *testing.T) {
	t.Parallel()
	tests := []struct {
		header string
		token  string
		ok     bool
	}{
		{"Bearer abc.def.ghi", "abc.def.ghi", true},
		{"bearer abc", "abc", true},
		{"BEARER abc", "abc", true},
		{"  Bearer   abc  ", "abc", true},
		{"", "", false},
		{"Bearer", "", false},
		{"Bearer ", "", false},
		{"Basic dXNlcjpwdw==", "", false},
		{"Bearerabc", "", false},
		{"Bearer a b", "", false},
		{"abc.def.ghi", "", false},
	}
	for _, tt := range tests {
		token, ok := BearerToken(tt.header)
		if token != tt.token || ok != tt.ok {
			t.Errorf("BearerToken(%q) = %q, %v; want %q, %v", tt.header, token, ok, tt.token, tt.ok)
		}
	}
}
