package main

import (
	"bytes"
	"net/http"
	"os"
	"testing"

	"github.com/lepus-ai/lepus/internal/sample"
	"github.com/lepus-ai/lepus/internal/sqlstore"
	"github.com/lepus-ai/lepus/internal/sqlstore/sqlstoretest"
)

// createFuzzPaths are the create endpoints FuzzCreateJSON posts to; the
// fuzzed byte picks one.
var createFuzzPaths = []string{
	"/kling/face-swap",
	"/kling/text-to-video",
	"/kling/image-generation",
	"/enhance-style/relight",
	"/v2/avatars/confirm-portraits",
}

// FuzzCreateJSON posts fuzzed JSON bodies to create endpoints on both
// databases (Postgres when LEPUS_TEST_DATABASE_URL is set, as in CI) and
// requires an answer below 500: whatever a client sends is its mistake
// (4xx) or a task (2xx), never a server error (issue 9). One server per
// database serves the whole run. "$IMG" in a body becomes the URL of an
// image uploaded to that server. In CI only the seeds run.
func FuzzCreateJSON(f *testing.F) {
	type target struct {
		name, token string
		s           *lepusServer
		img         []byte
	}
	var targets []target
	for _, dialect := range []string{sqlstore.DialectSQLite, sqlstore.DialectPostgres} {
		// One user sends every fuzzed body: fair-use limits off, so each
		// reaches the checks instead of a 429.
		env := map[string]string{"LEPUS_RATE_LIMIT": "0", "LEPUS_MAX_IN_FLIGHT": "0"}
		if dialect == sqlstore.DialectPostgres {
			if os.Getenv(sqlstoretest.EnvDatabaseURL) == "" {
				f.Logf("%s is not set; fuzzing SQLite only", sqlstoretest.EnvDatabaseURL)
				continue
			}
			env["LEPUS_DATABASE_URL"] = sqlstoretest.PostgresSchema(f)
		}
		s := startServe(f, env)
		tok := s.token(f, "fuzz-"+dialect)
		resp, up := s.upload(f, tok, sample.PortraitPNG(sample.Palettes[0], 400, 500))
		if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
			f.Fatalf("%s: upload: %d", dialect, resp.StatusCode)
		}
		targets = append(targets, target{dialect, tok, s, []byte(up.URL)})
	}

	for i, body := range []string{
		`{"source_image_url":"$IMG","face_image_url":"$IMG"}`,
		`{"prompt":"a fox in the snow","duration":5,"aspect_ratio":"16:9"}`,
		`{"prompt":"on a beach at sunset","n":1}`,
		`{"image_url":"$IMG","lighting_type":"golden_hour","light_direction":"left","light_intensity":0.5}`,
		`{"source_image_urls":["$IMG"]}`,
		`{"prompt":"a fox","duration":-1,"aspect_ratio":"1:0"}`,
		`{"prompt":"\u0000\ud800","n":1e309}`,
		`{"image_url":"$IMG","light_intensity":"x"`,
		`{"source_image_urls":[null,{},1],"avatar_id":"av_\u0000"}`,
		`[]`,
		`null`,
		"{\"prompt\":\"\xff\xfe\"}",
		`{"source_image_url":"http://127.0.0.1:1/a.png","face_image_url":"file:///etc/passwd"}`,
		``,
	} {
		f.Add(uint8(i%len(createFuzzPaths)), []byte(body))
		f.Add(uint8((i+2)%len(createFuzzPaths)), []byte(body))
	}

	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		path := createFuzzPaths[int(which)%len(createFuzzPaths)]
		for _, tg := range targets {
			b := bytes.ReplaceAll(body, []byte("$IMG"), tg.img)
			resp := tg.s.do(t, http.MethodPost, path, tg.token, bytes.NewReader(b),
				map[string]string{"Content-Type": "application/json"}, nil)
			if resp.StatusCode >= 500 {
				var buf bytes.Buffer
				_, _ = buf.ReadFrom(resp.Body)
				t.Fatalf("%s: POST %s %q: %d %s", tg.name, path, b, resp.StatusCode, buf.Bytes())
			}
		}
	})
}
