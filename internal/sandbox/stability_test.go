package sandbox_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lepus-ai/lepus/internal/media"
	"github.com/lepus-ai/lepus/internal/provider/stability"
	"github.com/lepus-ai/lepus/internal/sample"
	"github.com/lepus-ai/lepus/internal/sandbox"
)

const (
	relightKey      = "sandbox-stability-key"
	relightOtherKey = "second-account-key"
)

// relightClock is a settable clock for the sandbox's Config.Now.
type relightClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *relightClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *relightClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// relightBundle is a sandbox on a fake clock with a Stability client. The
// defaults apply: results after 5 s, polls at least 10 s apart.
type relightBundle struct {
	sb     *sandbox.Sandbox
	srv    *httptest.Server
	clock  *relightClock
	client *stability.Client
}

func setupRelight(t *testing.T) *relightBundle {
	t.Helper()
	clock := &relightClock{now: time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)}
	sb := sandbox.New(sandbox.Config{Now: clock.Now, StabilityExtraKeys: []string{relightOtherKey}})
	srv := httptest.NewServer(sb)
	t.Cleanup(func() { srv.Close(); sb.Close() })
	return &relightBundle{sb: sb, srv: srv, clock: clock, client: relightClient(srv, relightKey)}
}

func relightClient(srv *httptest.Server, key string) *stability.Client {
	return stability.NewClient(stability.Config{BaseURL: srv.URL, APIKey: key, HTTPClient: srv.Client()})
}

var (
	relightPortraitOnce sync.Once
	relightPortraitPNG  []byte
)

// relightSubject is a 480x600 PNG portrait.
func relightSubject() []byte {
	relightPortraitOnce.Do(func() { relightPortraitPNG = sample.PortraitPNG(sample.Palettes[0], 480, 600) })
	return relightPortraitPNG
}

// relightPNG encodes a w x h picture of one colour.
func relightPNG(w, h int) []byte {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range m.Pix {
		m.Pix[i] = 140
	}
	var buf bytes.Buffer
	_ = (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, m)
	return buf.Bytes()
}

// finish polls id once (expecting 202), moves past the latency and the
// poll spacing, and returns the finished result.
func (b *relightBundle) finish(t *testing.T, client *stability.Client, id string) (*stability.Result, []byte) {
	t.Helper()
	if _, err := client.Result(context.Background(), id); !errors.Is(err, stability.ErrInProgress) {
		t.Fatalf("first poll: %v, want in progress", err)
	}
	b.clock.advance(10 * time.Second)
	return fetchRelight(t, client, id)
}

// fetchRelight polls a finished generation and reads its image.
func fetchRelight(t *testing.T, client *stability.Client, id string) (*stability.Result, []byte) {
	t.Helper()
	res, err := client.Result(context.Background(), id)
	if err != nil {
		t.Fatalf("poll a finished generation: %v", err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, body
}

func relightLuma(m image.Image, r image.Rectangle) float64 {
	var sum float64
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			sum += float64(color.GrayModel.Convert(m.At(x, y)).(color.Gray).Y)
		}
	}
	return sum / float64(r.Dx()*r.Dy())
}

// relightColourDiff is the mean absolute RGB difference over r.
func relightColourDiff(a, b image.Image, r image.Rectangle) float64 {
	var sum float64
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			r1, g1, b1, _ := a.At(x, y).RGBA()
			r2, g2, b2, _ := b.At(x, y).RGBA()
			sum += math.Abs(float64(r1>>8)-float64(r2>>8)) + math.Abs(float64(g1>>8)-float64(g2>>8)) +
				math.Abs(float64(b1>>8)-float64(b2>>8))
		}
	}
	return sum / float64(3*r.Dx()*r.Dy())
}

// relightSharpness is the mean difference between horizontal neighbours.
func relightSharpness(m image.Image) float64 {
	b := m.Bounds()
	var sum float64
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X + 1; x < b.Max.X; x++ {
			l := float64(color.GrayModel.Convert(m.At(x-1, y)).(color.Gray).Y)
			r := float64(color.GrayModel.Convert(m.At(x, y)).(color.Gray).Y)
			sum += math.Abs(r - l)
		}
	}
	return sum / float64(b.Dx()*b.Dy())
}

var relightIDPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)

func TestStability_Relight(t *testing.T) {
	t.Parallel()
	b := setupRelight(t)
	ctx := context.Background()
	subject := relightSubject()
	in, _, _ := media.DecodeImage(subject)

	id, err := b.client.Start(ctx, &stability.RelightRequest{
		SubjectImage: subject, SubjectType: "image/png",
		BackgroundPrompt:        "warm golden hour sunlight, soft warm tones",
		PreserveOriginalSubject: ptr(0.7), KeepOriginalBackground: "true",
		LightSourceDirection: "left", LightSourceStrength: ptr(0.7), Seed: ptr(int64(42)), OutputFormat: "png",
	})
	if err != nil {
		t.Fatal(err)
	}
	if !relightIDPattern.MatchString(id) {
		t.Errorf("id %q, want 64 hex characters", id)
	}
	b.clock.advance(4 * time.Second)
	res, body := b.finish(t, b.client, id) // 202 at 4 s, 200 at 14 s
	if res.ContentType != "image/png" || res.FinishReason != stability.FinishSuccess || res.Seed != 42 || res.Filtered() {
		t.Errorf("result %+v", res)
	}
	out, info, err := media.DecodeImage(body)
	if err != nil || info.Format != "png" || out.Bounds() != in.Bounds() {
		t.Fatalf("result image %+v, %v", info, err)
	}
	// Lit from the left: the left edge gains light, the right edge does not
	// gain as much; warm light: red over blue.
	left, right := image.Rect(0, 0, 60, 600), image.Rect(420, 0, 480, 600)
	gainL := relightLuma(out, left) - relightLuma(in, left)
	gainR := relightLuma(out, right) - relightLuma(in, right)
	if gainL < 20 || gainL < gainR+25 {
		t.Errorf("luma gain left %.1f, right %.1f: want the left side lit", gainL, gainR)
	}
	r, _, bl, _ := out.At(240, 300).RGBA()
	r0, _, b0, _ := in.At(240, 300).RGBA()
	if float64(r)/float64(bl+1) <= float64(r0)/float64(b0+1) {
		t.Error("golden-hour light did not warm the subject")
	}
	st := b.sb.Stats()
	if st.RelightStarts != 1 || st.RelightPolls != 2 || st.RelightRateLimited != 0 ||
		b.sb.RelightStartsFor(relightKey) != 1 || b.sb.RelightStartsFor(relightOtherKey) != 0 {
		t.Errorf("stats %+v, starts for key %d", st, b.sb.RelightStartsFor(relightKey))
	}
	// The result stays available (within 24 h) for a later poll.
	b.clock.advance(time.Hour)
	again, err := b.client.Result(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	body2, _ := io.ReadAll(again.Body)
	again.Body.Close()
	if !bytes.Equal(body, body2) {
		t.Error("a second download gave different bytes")
	}
}

func TestStability_OutputFormats(t *testing.T) {
	t.Parallel()
	subject := relightSubject()
	in, _, _ := media.DecodeImage(subject)
	for _, f := range []struct{ format, ctype string }{{"jpeg", "image/jpeg"}, {"webp", "image/webp"}} {
		t.Run(f.format, func(t *testing.T) {
			t.Parallel()
			b := setupRelight(t)
			id, err := b.client.Start(context.Background(), &stability.RelightRequest{
				SubjectImage: subject, BackgroundPrompt: "neon lighting, cyberpunk city street at night", OutputFormat: f.format,
				Seed: ptr(int64(1234)),
			})
			if err != nil {
				t.Fatal(err)
			}
			res, body := b.finish(t, b.client, id)
			out, info, err := media.DecodeImage(body)
			if err != nil || res.ContentType != f.ctype || info.Mime != f.ctype || res.Seed < 1 {
				t.Fatalf("result %+v, image %+v, %v", res, info, err)
			}
			// keep_original_background omitted ("false"): a new backdrop
			// in the corners, the subject kept in the middle.
			corner, middle := image.Rect(0, 0, 40, 40), image.Rect(220, 280, 260, 320)
			if d := relightColourDiff(out, in, corner); d < 30 {
				t.Errorf("corner colour changed by %.1f only: background not replaced", d)
			}
			if d := math.Abs(relightLuma(out, middle) - relightLuma(in, middle)); d > 60 {
				t.Errorf("subject luma changed by %.1f: subject lost", d)
			}
		})
	}
}

func TestStability_ContentFiltered(t *testing.T) {
	t.Parallel()
	b := setupRelight(t)
	ctx := context.Background()
	// Sharp squares, so a blur shows.
	checker := image.NewRGBA(image.Rect(0, 0, 320, 320))
	for y := range 320 {
		for x := range 320 {
			v := uint8(40 + 170*((x/10+y/10)%2))
			checker.SetRGBA(x, y, color.RGBA{v, v, v, 255})
		}
	}
	var subject bytes.Buffer
	_ = png.Encode(&subject, checker)
	start := func(prompt string) string {
		t.Helper()
		id, err := b.client.Start(ctx, &stability.RelightRequest{SubjectImage: subject.Bytes(), BackgroundPrompt: prompt,
			KeepOriginalBackground: "true"})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	b.sb.FilterRelight(1)
	hooked := start("studio lighting")
	clean := start("studio lighting")
	word := start("a Forbidden scene, studio lighting")
	b.clock.advance(5 * time.Second)
	sharp := map[string]float64{}
	for name, id := range map[string]string{"hooked": hooked, "clean": clean, "word": word} {
		res, body := fetchRelight(t, b.client, id)
		if res.Filtered() != (name != "clean") {
			t.Errorf("%s: finish reason %q", name, res.FinishReason)
		}
		img, _, err := media.DecodeImage(body)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		sharp[name] = relightSharpness(img)
	}
	if sharp["hooked"] > sharp["clean"]/3 || sharp["word"] > sharp["clean"]/3 {
		t.Errorf("filtered images not blurred: sharpness %v", sharp)
	}
}

func TestStability_PollRateLimit(t *testing.T) {
	t.Parallel()
	b := setupRelight(t)
	ctx := context.Background()
	id, err := b.client.Start(ctx, &stability.RelightRequest{SubjectImage: relightSubject(), BackgroundPrompt: "soft light"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.client.Result(ctx, id); !errors.Is(err, stability.ErrInProgress) {
		t.Fatalf("first poll: %v", err)
	}
	b.clock.advance(9 * time.Second)
	_, err = b.client.Result(ctx, id)
	var apiErr *stability.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 429 || apiErr.Name != "rate_limit_exceeded" || !apiErr.Retryable() {
		t.Fatalf("poll after 9 s: %v, want 429 rate_limit_exceeded", err)
	}
	// The refused poll does not restart the wait: 10 s after the last
	// answered poll is fine.
	b.clock.advance(time.Second)
	res, err := b.client.Result(ctx, id)
	if err != nil {
		t.Fatalf("poll after 10 s: %v", err)
	}
	res.Body.Close()
	if st := b.sb.Stats(); st.RelightRateLimited != 1 || st.RelightPolls != 2 {
		t.Errorf("stats %+v", st)
	}
}

func TestStability_NotFound(t *testing.T) {
	t.Parallel()
	b := setupRelight(t)
	ctx := context.Background()
	other := relightClient(b.srv, relightOtherKey)
	id, err := b.client.Start(ctx, &stability.RelightRequest{SubjectImage: relightSubject(), BackgroundPrompt: "studio"})
	if err != nil {
		t.Fatal(err)
	}
	wantNotFound := func(name string, c *stability.Client, id string) {
		t.Helper()
		_, err := c.Result(ctx, id)
		var apiErr *stability.APIError
		if !errors.As(err, &apiErr) || !apiErr.NotFound() || apiErr.Retryable() {
			t.Errorf("%s: %v, want 404", name, err)
		}
	}
	wantNotFound("unknown id", b.client, strings.Repeat("0", 64))
	wantNotFound("another key's id", other, id)
	if b.sb.RelightStartsFor(relightOtherKey) != 0 {
		t.Error("starts counted for the wrong key")
	}
	_, _ = b.finish(t, b.client, id)
	// It finished at 5 s and was fetched at 10 s; at 24 h after finishing
	// minus 5 s it is still there, 5 s past 24 h it is gone.
	b.clock.advance(24*time.Hour - 10*time.Second)
	res, err := b.client.Result(ctx, id)
	if err != nil {
		t.Fatalf("within 24 h: %v", err)
	}
	res.Body.Close()
	b.clock.advance(10 * time.Second)
	wantNotFound("expired", b.client, id)
}

func TestStability_Auth(t *testing.T) {
	t.Parallel()
	b := setupRelight(t)
	ctx := context.Background()
	const wrong = "sk-WRONG-key-123"
	c := relightClient(b.srv, wrong)
	_, err := c.Start(ctx, &stability.RelightRequest{SubjectImage: relightSubject(), BackgroundPrompt: "studio"})
	var apiErr *stability.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 401 || apiErr.Name != "unauthorized" || len(apiErr.Errors) == 0 || apiErr.ID == "" {
		t.Fatalf("start with a wrong key: %v", err)
	}
	if strings.Contains(err.Error(), wrong) {
		t.Errorf("error %q holds the key", err)
	}
	if _, err := c.Result(ctx, strings.Repeat("a", 64)); !errors.As(err, &apiErr) || apiErr.Status != 401 {
		t.Errorf("result with a wrong key: %v", err)
	}
	resp, err := http.Post(b.srv.URL+"/v2beta/stable-image/edit/replace-background-and-relight", "multipart/form-data; boundary=x", strings.NewReader("--x--"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("no key: status %d", resp.StatusCode)
	}
	if st := b.sb.Stats(); st.RelightStarts != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestStability_PayloadTooLarge(t *testing.T) {
	t.Parallel()
	b := setupRelight(t)
	big := append(append([]byte(nil), relightSubject()...), make([]byte, 10<<20)...)
	_, err := b.client.Start(context.Background(), &stability.RelightRequest{SubjectImage: big, BackgroundPrompt: "studio"})
	var apiErr *stability.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 413 || apiErr.Name != "payload_too_large" {
		t.Fatalf("err = %v, want 413 payload_too_large", err)
	}
	// Just under the limit is read and judged on its content instead.
	fits := append(append([]byte(nil), relightSubject()...), make([]byte, 9<<20)...)
	if _, err := b.client.Start(context.Background(), &stability.RelightRequest{SubjectImage: fits, BackgroundPrompt: "studio"}); err != nil {
		t.Errorf("9 MiB subject: %v", err)
	}
}

func TestStability_AcceptJSON(t *testing.T) {
	t.Parallel()
	b := setupRelight(t)
	id, err := b.client.Start(context.Background(), &stability.RelightRequest{SubjectImage: relightSubject(), BackgroundPrompt: "studio", Seed: ptr(int64(7))})
	if err != nil {
		t.Fatal(err)
	}
	b.clock.advance(5 * time.Second)
	req, _ := http.NewRequest(http.MethodGet, b.srv.URL+"/v2beta/results/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+relightKey)
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct {
		Image        string `json:"image"`
		FinishReason string `json:"finish_reason"`
		Seed         int64  `json:"seed"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || resp.StatusCode != 200 {
		t.Fatalf("status %d, %v", resp.StatusCode, err)
	}
	img, _ := base64.StdEncoding.DecodeString(got.Image)
	if _, info, err := media.DecodeImage(img); err != nil || info.Format != "png" || got.FinishReason != "SUCCESS" || got.Seed != 7 ||
		resp.Header.Get("Content-Type") != "application/json; type=image/png" {
		t.Errorf("json result: %+v, %s, %v, %q", info, got.FinishReason, err, resp.Header.Get("Content-Type"))
	}
}

func TestConfigFromEnv_Stability(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"SANDBOX_STABILITY_KEY": "stab-secret", "SANDBOX_RELIGHT_LATENCY": "250ms", "SANDBOX_STABILITY_MIN_POLL": "0.5",
	}
	cfg, err := sandbox.ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil || cfg.StabilityKey != "stab-secret" || cfg.RelightLatency != 250*time.Millisecond || cfg.StabilityMinPoll != 500*time.Millisecond {
		t.Errorf("cfg = %+v, %v", cfg, err)
	}
	def := sandbox.DefaultConfig()
	if def.StabilityKey != relightKey || def.RelightLatency != 5*time.Second || def.StabilityMinPoll != 10*time.Second {
		t.Errorf("defaults = %+v", def)
	}
	if _, err := sandbox.ConfigFromEnv(func(k string) string {
		return map[string]string{"SANDBOX_STABILITY_MIN_POLL": "often"}[k]
	}); err == nil || !strings.Contains(err.Error(), "SANDBOX_STABILITY_MIN_POLL") {
		t.Errorf("bad min poll: %v", err)
	}
}
