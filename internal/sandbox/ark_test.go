package sandbox_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lepus-ai/lepus/internal/provider/ark"
	"github.com/lepus-ai/lepus/internal/sandbox"
)

const arkKey = "sandbox-ark-key"

// arkSetup starts a sandbox with a short Ark latency and returns an Ark
// client pointed at it.
func arkSetup(t *testing.T, mutate func(*sandbox.Config)) (*bundle, *ark.Client) {
	t.Helper()
	b := setup(t, func(c *sandbox.Config) {
		c.ArkLatency = 20 * time.Millisecond
		if mutate != nil {
			mutate(c)
		}
	})
	return b, ark.NewClient(ark.Config{BaseURL: b.srv.URL + "/ark/api/v3", APIKey: arkKey, HTTPClient: b.srv.Client()})
}

// arkPortraitRequest is the confirm-portraits request (decision #11) for
// the given references.
func arkPortraitRequest(stream bool, refs ...string) *ark.ImagesRequest {
	return &ark.ImagesRequest{
		Model: ark.ModelSeedream40, Prompt: "纪实风格35mm胶片摄影，参考图1中的人物。生成4张，每张角度略有不同。",
		Image: refs, Size: "2K", SequentialImageGeneration: "auto",
		SequentialImageGenerationOptions: &ark.SequentialOptions{MaxImages: 4},
		Stream:                           stream, Watermark: ptr(false),
	}
}

// arkJPEG decodes a JPEG result.
func arkJPEG(t *testing.T, data []byte) image.Image {
	t.Helper()
	img, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("result is not a JPEG: %v", err)
	}
	return img
}

func TestSandbox_ArkGenerate(t *testing.T) {
	t.Parallel()
	for _, stream := range []bool{true, false} {
		t.Run(fmt.Sprintf("stream=%v", stream), func(t *testing.T) {
			t.Parallel()
			b, c := arkSetup(t, nil)
			face := b.host("face.png", mustPNG(t, portrait(600, 800)))
			im, err := c.Generate(context.Background(), arkPortraitRequest(stream, face, b.img(400, 400, "jpg")))
			if err != nil {
				t.Fatal(err)
			}
			if !im.Complete || im.Model != ark.ModelSeedream40 || im.Created == 0 || len(im.Items) != 4 || len(im.Succeeded()) != 4 {
				t.Fatalf("images = %+v", im)
			}
			// 2K at the first reference's 3:4 is Ark's recommended 1728x2304.
			want := ark.Usage{GeneratedImages: 4, OutputTokens: 4 * 1728 * 2304 / 256, TotalTokens: 4 * 1728 * 2304 / 256}
			if im.Usage != want {
				t.Errorf("usage = %+v, want %+v", im.Usage, want)
			}
			var first []byte
			for i, it := range im.Items {
				if it.Index != i || it.Size != "1728x2304" || !strings.Contains(it.URL, "/sandbox/cdn/ark/") || it.B64JSON != "" {
					t.Errorf("item %d = %+v", i, it)
				}
				data := download(t, it.URL, "image/jpeg")
				if got := arkJPEG(t, data).Bounds(); got.Dx() != 768 || got.Dy() != 1024 {
					t.Errorf("image %d is %v, want 768x1024 (3:4, long side 1024)", i, got)
				}
				if i == 0 {
					first = data
				} else if bytes.Equal(data, first) {
					t.Errorf("image %d is the same as image 0; want a variation", i)
				}
			}
			if st := b.sb.Stats(); st.ArkCalls != 1 || st.ArkImages != 4 {
				t.Errorf("stats = %d calls, %d images", st.ArkCalls, st.ArkImages)
			}
		})
	}
}

func TestSandbox_ArkBase64AndTextOnly(t *testing.T) {
	t.Parallel()
	_, c := arkSetup(t, nil)
	im, err := c.Generate(context.Background(), &ark.ImagesRequest{
		Model: "ep-20250921-sandbox", Prompt: "a lighthouse at dawn", ResponseFormat: "b64_json", Watermark: ptr(false),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Items) != 1 || im.Items[0].URL != "" || im.Items[0].Size != "2048x2048" || im.Usage.GeneratedImages != 1 {
		t.Fatalf("images = %+v", im)
	}
	data, err := base64.StdEncoding.DecodeString(im.Items[0].B64JSON)
	if err != nil {
		t.Fatal(err)
	}
	if got := arkJPEG(t, data).Bounds(); got.Dx() != 1024 || got.Dy() != 1024 {
		t.Errorf("image is %v, want 1024x1024", got)
	}
}

func TestSandbox_ArkFewerThanMax(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		images    int // Config.ArkImages; 0 = default 4
		seq       string
		maxImages int
		want      int
	}{
		{"ModelReturnsTwoOfFour", 2, "auto", 4, 2},
		{"CappedByMaxImages", 0, "auto", 3, 3},
		{"Disabled", 6, "disabled", 4, 1},
		{"DefaultGroupSize", 0, "auto", 15 - 1, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, c := arkSetup(t, func(c *sandbox.Config) { c.ArkImages = tt.images })
			req := arkPortraitRequest(true, b.img(300, 400, "jpg"))
			req.SequentialImageGeneration, req.SequentialImageGenerationOptions.MaxImages = tt.seq, tt.maxImages
			im, err := c.Generate(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if len(im.Items) != tt.want || len(im.Succeeded()) != tt.want || im.Usage.GeneratedImages != tt.want || !im.Complete {
				t.Errorf("got %d items (%d ok, usage %d), want %d", len(im.Items), len(im.Succeeded()), im.Usage.GeneratedImages, tt.want)
			}
		})
	}
}

// arkDiffCount counts the pixels of r that differ by more than 60 in some
// channel between a and b.
func arkDiffCount(a, b image.Image, r image.Rectangle) int {
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			r1, g1, b1, _ := a.At(x, y).RGBA()
			r2, g2, b2, _ := b.At(x, y).RGBA()
			for _, d := range []int{int(r1>>8) - int(r2>>8), int(g1>>8) - int(g2>>8), int(b1>>8) - int(b2>>8)} {
				if d > 60 || d < -60 {
					n++
					break
				}
			}
		}
	}
	return n
}

func TestSandbox_ArkWatermarkDefault(t *testing.T) {
	t.Parallel()
	b, c := arkSetup(t, nil)
	ref := b.img(600, 800, "jpg")
	get := func(wm *bool) image.Image {
		req := arkPortraitRequest(false, ref)
		req.Watermark = wm
		req.SequentialImageGeneration, req.SequentialImageGenerationOptions = "", nil
		im, err := c.Generate(context.Background(), req)
		if err != nil || len(im.Items) != 1 {
			t.Fatalf("generate: %+v, %v", im, err)
		}
		return arkJPEG(t, download(t, im.Items[0].URL, "image/jpeg"))
	}
	absent, off, on := get(nil), get(ptr(false)), get(ptr(true))
	bd := off.Bounds()
	corner := image.Rect(bd.Dx()*3/4, bd.Dy()*9/10, bd.Dx(), bd.Dy())
	rest := image.Rect(0, 0, bd.Dx()/2, bd.Dy()/2)
	if n := arkDiffCount(absent, off, corner); n < 500 {
		t.Errorf("watermark absent: %d corner pixels differ from watermark:false; want the mark (default true)", n)
	}
	if n := arkDiffCount(on, off, corner); n < 500 {
		t.Errorf("watermark:true: %d corner pixels differ from watermark:false", n)
	}
	if n := arkDiffCount(absent, off, rest); n != 0 {
		t.Errorf("%d pixels outside the corner differ", n)
	}
}

func TestSandbox_ArkMixed(t *testing.T) {
	t.Parallel()
	for _, stream := range []bool{true, false} {
		t.Run(fmt.Sprintf("stream=%v", stream), func(t *testing.T) {
			t.Parallel()
			b, c := arkSetup(t, nil)
			b.sb.ArkMixed(1, 3)
			im, err := c.Generate(context.Background(), arkPortraitRequest(stream, b.img(300, 400, "png")))
			if err != nil {
				t.Fatal(err)
			}
			if !im.Complete || len(im.Items) != 4 || im.Usage.GeneratedImages != 2 {
				t.Fatalf("images = %+v", im)
			}
			for _, it := range im.Failed() {
				if (it.Index != 1 && it.Index != 3) || it.Error.Code != "OutputImageSensitiveContentDetected" || it.URL != "" {
					t.Errorf("failed item = %+v", it)
				}
			}
			ok := im.Succeeded()
			if len(ok) != 2 || ok[0].Index != 0 || ok[1].Index != 2 {
				t.Fatalf("succeeded = %+v", ok)
			}
			download(t, ok[1].URL, "image/jpeg")
			// The refused image has no file on the CDN.
			resp, err := http.Get(strings.Replace(ok[1].URL, "/2.jpeg", "/1.jpeg", 1))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("failed image on the CDN: status %d", resp.StatusCode)
			}
			if st := b.sb.Stats(); st.ArkImages != 2 {
				t.Errorf("ark_images = %d, want 2 (failures are not billed)", st.ArkImages)
			}
			b.sb.ArkMixed()
			if im, err := c.Generate(context.Background(), arkPortraitRequest(stream, b.img(300, 400, "png"))); err != nil || len(im.Succeeded()) != 4 {
				t.Errorf("after ArkMixed(): %+v, %v", im, err)
			}
		})
	}
}

func TestSandbox_FailArk(t *testing.T) {
	t.Parallel()
	b, c := arkSetup(t, nil)
	ref := b.img(300, 400, "jpg")
	b.sb.FailArk(2)

	// A request refused by validation does not use up a failure.
	bad := arkPortraitRequest(false, ref)
	bad.Size = "huge"
	var apiErr *ark.APIError
	if _, err := c.Generate(context.Background(), bad); !errors.As(err, &apiErr) || apiErr.Status != 400 {
		t.Fatalf("bad request: %v", err)
	}

	_, err := c.Generate(context.Background(), arkPortraitRequest(false, ref))
	if !errors.As(err, &apiErr) || apiErr.Status != 500 || apiErr.Code != "InternalServiceError" || !apiErr.Retryable() {
		t.Errorf("non-streamed: err = %v, want 500 InternalServiceError", err)
	}

	im, err := c.Generate(context.Background(), arkPortraitRequest(true, ref))
	if err != nil {
		t.Fatal(err)
	}
	if im.Complete || len(im.Items) != 1 || len(im.Succeeded()) != 0 || im.Items[0].Error.Code != "InternalServiceError" {
		t.Errorf("streamed: images = %+v, want one partial_failed and no completed", im)
	}

	if im, err := c.Generate(context.Background(), arkPortraitRequest(true, ref)); err != nil || len(im.Succeeded()) != 4 {
		t.Errorf("after the failures: %+v, %v", im, err)
	}
	if st := b.sb.Stats(); st.ArkCalls != 4 || st.ArkImages != 4 {
		t.Errorf("stats = %d calls, %d images; want 4, 4", st.ArkCalls, st.ArkImages)
	}
}

func TestSandbox_ArkAuth(t *testing.T) {
	t.Parallel()
	b, _ := arkSetup(t, func(c *sandbox.Config) { c.ArkKey = "k-ark" })
	for _, key := range []string{"", arkKey, "k-ar"} {
		c := ark.NewClient(ark.Config{BaseURL: b.srv.URL + "/ark/api/v3", APIKey: key})
		_, err := c.Generate(context.Background(), &ark.ImagesRequest{Model: ark.ModelSeedream40, Prompt: "p"})
		var apiErr *ark.APIError
		if !errors.As(err, &apiErr) || apiErr.Status != 401 || apiErr.Code != "AuthenticationError" {
			t.Errorf("key %q: err = %v", key, err)
		}
	}
	c := ark.NewClient(ark.Config{BaseURL: b.srv.URL + "/ark/api/v3", APIKey: "k-ark"})
	if _, err := c.Generate(context.Background(), &ark.ImagesRequest{Model: ark.ModelSeedream40, Prompt: "p"}); err != nil {
		t.Errorf("configured key: %v", err)
	}
	if st := b.sb.Stats(); st.ArkCalls != 1 {
		t.Errorf("ark_calls = %d, want 1 (bad keys are not counted)", st.ArkCalls)
	}
}

func TestConfigFromEnv_Ark(t *testing.T) {
	t.Parallel()
	env := map[string]string{"SANDBOX_ARK_KEY": "ark-secret", "SANDBOX_ARK_IMAGES": "3", "SANDBOX_ARK_LATENCY": "1.5"}
	cfg, err := sandbox.ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil || cfg.ArkKey != "ark-secret" || cfg.ArkImages != 3 || cfg.ArkLatency != 1500*time.Millisecond {
		t.Errorf("cfg = %+v, %v", cfg, err)
	}
	def, err := sandbox.ConfigFromEnv(func(string) string { return "" })
	if err != nil || def.ArkKey != arkKey || def.ArkImages != 4 || def.ArkLatency != 3*time.Second {
		t.Errorf("defaults = %+v, %v", def, err)
	}
	for _, bad := range []struct{ name, value string }{
		{"SANDBOX_ARK_IMAGES", "0"}, {"SANDBOX_ARK_IMAGES", "16"}, {"SANDBOX_ARK_IMAGES", "four"},
		{"SANDBOX_ARK_LATENCY", "0"}, {"SANDBOX_ARK_LATENCY", "later"},
	} {
		_, err := sandbox.ConfigFromEnv(func(k string) string {
			if k == bad.name {
				return bad.value
			}
			return ""
		})
		if err == nil || !strings.HasPrefix(err.Error(), bad.name+":") {
			t.Errorf("%s=%q: err = %v", bad.name, bad.value, err)
		}
	}
}
