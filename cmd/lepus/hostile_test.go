package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/lepus-ai/lepus/internal/sqlstore"
	"github.com/lepus-ai/lepus/internal/sqlstore/sqlstoretest"
)

// TestServe_HostileInput sends header, token and body text that must be
// refused before it reaches the database (issue 9). Postgres refuses NUL
// bytes and invalid UTF-8 in text columns, so before the checks these
// requests were answered 500 there; both databases must answer 4xx.
func TestServe_HostileInput(t *testing.T) {
	t.Parallel()
	for _, dialect := range []string{sqlstore.DialectSQLite, sqlstore.DialectPostgres} {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{}
			if dialect == sqlstore.DialectPostgres {
				env["LEPUS_DATABASE_URL"] = sqlstoretest.PostgresSchema(t)
			}
			s := startServe(t, env)
			tok := s.token(t, "hostile-"+dialect)
			video := func(prompt string) map[string]any { return map[string]any{"prompt": prompt} }

			t.Run("IdempotencyKey", func(t *testing.T) {
				for _, tc := range []struct {
					name, key string
					status    int
				}{
					{"ErrNonUTF8", "key-\xe9", 422},
					{"ErrHighByte", "key-\x80\x81", 422},
					{"ErrValidUTF8NonASCII", "clé", 422},
					{"ErrTab", "key\tx", 422},
					{"ErrTooLong", strings.Repeat("k", 256), 422},
					{"OK", "key-" + dialect + "-ok ~!", 202},
				} {
					t.Run(tc.name, func(t *testing.T) {
						resp, p := postProblem(t, s, "/kling/text-to-video", tok, video("a fox"), map[string]string{"Idempotency-Key": tc.key})
						if resp.StatusCode != tc.status {
							t.Fatalf("status %d, want %d: %+v", resp.StatusCode, tc.status, p)
						}
						if tc.status == 422 && !p.mentions("header.Idempotency-Key") {
							t.Fatalf("problem does not name header.Idempotency-Key: %+v", p)
						}
					})
				}
			})

			t.Run("PathIDs", func(t *testing.T) {
				for _, path := range []string{"/tasks/tsk_%00x", "/tasks/tsk_%E9x", "/v2/avatars/av_%00x", "/tasks/tsk_%00x/events"} {
					resp := s.do(t, "GET", path, tok, nil, nil, nil)
					if resp.StatusCode != 422 {
						t.Errorf("GET %s: %d, want 422", path, resp.StatusCode)
					}
				}
				resp, p := postProblem(t, s, "/v2/avatars/confirm-portraits", tok,
					map[string]any{"source_image_urls": []string{"http://example.com/a.png"}, "avatar_id": "av_\u0000x"}, nil)
				if resp.StatusCode != 422 || !p.mentions("body.avatar_id") {
					t.Errorf("avatar_id with NUL: %d %+v, want 422 naming body.avatar_id", resp.StatusCode, p)
				}
			})

			t.Run("Text", func(t *testing.T) {
				for _, tc := range []struct {
					name   string
					path   string
					body   map[string]any
					status int
					field  string
				}{
					{"ErrPromptNUL", "/kling/text-to-video", video("a fox\x00 in snow"), 422, "body.prompt"},
					{"ErrPromptBell", "/kling/text-to-video", video("a fox\a"), 422, "body.prompt"},
					{"ErrPromptDEL", "/kling/text-to-video", video("a fox\x7f"), 422, "body.prompt"},
					{"ErrPromptC1", "/kling/text-to-video", video("a fox\u0085"), 422, "body.prompt"},
					{"ErrNegativePrompt", "/kling/text-to-video", map[string]any{"prompt": "a fox", "negative_prompt": "blur\x00"}, 422, "body.negative_prompt"},
					{"ErrCustomPrompt", "/kling/face-swap", map[string]any{"source_image_url": "http://example.com/a.png", "face_image_url": "http://example.com/b.png", "custom_prompt": "x\x1b[31m"}, 422, "body.custom_prompt"},
					{"ErrStyleTag", "/enhance-style/ai-stylist", map[string]any{"garment_image_url": "http://example.com/a.png", "style_tags": []string{"vintage", "chic\x00"}}, 422, "body.style_tags[1]"},
					{"ErrImageURL", "/kling/multi-image-to-video", map[string]any{"prompt": "a fox", "image_urls": []string{"http://example.com/a.png", "http://example.com/\x00.png"}}, 422, "body.image_urls[1]"},
					{"OKTabNewline", "/kling/text-to-video", video("a fox\tin snow,\r\nthen\nrunning"), 202, ""},
				} {
					t.Run(tc.name, func(t *testing.T) {
						resp, p := postProblem(t, s, tc.path, tok, tc.body, nil)
						if resp.StatusCode != tc.status {
							t.Fatalf("status %d, want %d: %+v", resp.StatusCode, tc.status, p)
						}
						if tc.field != "" && !p.mentions(tc.field) {
							t.Fatalf("problem does not name %s: %+v", tc.field, p)
						}
					})
				}
			})

			t.Run("Token", func(t *testing.T) {
				now := time.Now()
				claims := func(change func(jwt.MapClaims)) jwt.MapClaims {
					c := jwt.MapClaims{"sub": "tok-" + dialect, "aud": "authenticated", "role": "authenticated", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
					if change != nil {
						change(c)
					}
					return c
				}
				hs256 := func(c jwt.MapClaims) string {
					return signToken(t, map[string]any{"alg": "HS256", "typ": "JWT"}, mustJSON(t, c))
				}
				for _, tc := range []struct {
					name   string
					token  string
					status int
				}{
					{"ErrSubNUL", hs256(claims(func(c jwt.MapClaims) { c["sub"] = "eve\x00" })), 401},
					{"ErrSubControl", hs256(claims(func(c jwt.MapClaims) { c["sub"] = "eve\n" })), 401},
					{"ErrSubNonUTF8", signToken(t, map[string]any{"alg": "HS256", "typ": "JWT"},
						[]byte(`{"sub":"eve-`+"\xe9"+`","aud":"authenticated","iat":`+itoa(now.Unix())+`,"exp":`+itoa(now.Add(time.Hour).Unix())+`}`)), 401},
					{"ErrSubTooLong", hs256(claims(func(c jwt.MapClaims) { c["sub"] = strings.Repeat("u", 256) })), 401},
					{"ErrStringExp", hs256(claims(func(c jwt.MapClaims) { c["exp"] = itoa(now.Add(time.Hour).Unix()) })), 401},
					{"ErrNoExp", hs256(claims(func(c jwt.MapClaims) { delete(c, "exp") })), 401},
					{"ErrFutureIat", hs256(claims(func(c jwt.MapClaims) { c["iat"] = now.Add(10 * time.Minute).Unix() })), 401},
					{"ErrFutureNbf", hs256(claims(func(c jwt.MapClaims) { c["nbf"] = now.Add(10 * time.Minute).Unix() })), 401},
					{"ErrUnknownCrit", signToken(t, map[string]any{"alg": "HS256", "typ": "JWT", "crit": []string{"x-lepus"}, "x-lepus": 1}, mustJSON(t, claims(nil))), 401},
					{"ErrAlgRS256", signToken(t, map[string]any{"alg": "RS256", "typ": "JWT"}, mustJSON(t, claims(nil))), 401},
					{"ErrAlgNone", b64url(mustJSON(t, map[string]any{"alg": "none", "typ": "JWT"})) + "." + b64url(mustJSON(t, claims(nil))) + ".", 401},
					{"OKSupabase", signToken(t, map[string]any{"alg": "HS256", "typ": "JWT", "kid": "Ab12Cd34"}, mustJSON(t, map[string]any{
						"iss": "https://abcdefgh.supabase.co/auth/v1", "sub": "8f2c1a9e-3b4d-4c5e-9f60-7a8b9c0d1e2f", "aud": "authenticated",
						"exp": now.Add(time.Hour).Unix(), "iat": now.Unix(), "email": "ana@example.com", "phone": "",
						"app_metadata":  map[string]any{"provider": "email", "providers": []string{"email"}},
						"user_metadata": map[string]any{"email_verified": true},
						"role":          "authenticated", "aal": "aal1",
						"amr":        []map[string]any{{"method": "password", "timestamp": now.Unix()}},
						"session_id": "0b7f5b0e-1c2d-4e3f-8a9b-0c1d2e3f4a5b", "is_anonymous": false,
					})), 202},
				} {
					t.Run(tc.name, func(t *testing.T) {
						resp, p := postProblem(t, s, "/kling/text-to-video", tc.token, video("a fox"), nil)
						if resp.StatusCode != tc.status {
							t.Fatalf("status %d, want %d: %+v", resp.StatusCode, tc.status, p)
						}
					})
				}
			})
		})
	}
}

// postProblem posts body and decodes the answer as a problem when it is
// not a success.
func postProblem(t *testing.T, s *lepusServer, path, token string, body any, header map[string]string) (*http.Response, problemResp) {
	t.Helper()
	resp := s.postJSON(t, path, token, body, header, nil)
	var p problemResp
	if resp.StatusCode >= 300 {
		data, _ := io.ReadAll(resp.Body)
		if err := json.Unmarshal(data, &p); err != nil {
			t.Fatalf("%s: %d %s: decode: %v", path, resp.StatusCode, data, err)
		}
	}
	return resp, p
}

// signToken signs header and the raw payload bytes with HS256 and the
// tests' secret, whatever alg header says, so a test can send payloads
// json.Marshal would never produce (invalid UTF-8) and forged algorithms.
func signToken(t *testing.T, header map[string]any, payload []byte) string {
	t.Helper()
	unsigned := b64url(mustJSON(t, header)) + "." + b64url(payload)
	mac := hmac.New(sha256.New, []byte(testSecret))
	mac.Write([]byte(unsigned))
	return unsigned + "." + b64url(mac.Sum(nil))
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func b64url(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
