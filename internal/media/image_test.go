package media

import (
	"bytes"
	"errors"
	"image/color"
	"io"
	"strings"
	"testing"

	"github.com/lepus-ai/lepus/internal/media/mediatest"
)

func TestCheckImage(t *testing.T) {
	t.Parallel()

	corruptPNG := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{7}, 100)...)
	tests := []struct {
		name       string
		data       []byte
		wantRule   string // "" means accepted
		wantFormat string
		wantW      int
		wantH      int
		wantMsg    string
	}{
		{name: "OK_PNG", data: mediatest.EncodePNG(t, mediatest.Photo(400, 300)), wantFormat: "png", wantW: 400, wantH: 300},
		{name: "OK_JPEG", data: mediatest.EncodeJPEG(t, mediatest.Photo(300, 600)), wantFormat: "jpeg", wantW: 300, wantH: 600},
		{name: "OK_WebP", data: mediatest.SolidWebP(500, 320, color.RGBA{10, 200, 30, 255}), wantFormat: "webp", wantW: 500, wantH: 320},
		{name: "OK_AspectExactlyAtLimit", data: mediatest.EncodePNG(t, mediatest.Solid(750, 300, color.RGBA{1, 2, 3, 255})), wantFormat: "png", wantW: 750, wantH: 300},
		{
			name: "ErrTiny", data: mediatest.EncodePNG(t, mediatest.Photo(200, 180)), wantRule: RuleMinSide, wantFormat: "png", wantW: 200, wantH: 180,
			wantMsg: "image is 200x180 px; both sides must be at least 300 px",
		},
		{name: "ErrOneSideShort", data: mediatest.EncodeJPEG(t, mediatest.Photo(400, 299)), wantRule: RuleMinSide, wantFormat: "jpeg", wantW: 400, wantH: 299},
		{
			name: "ErrTooWide", data: mediatest.EncodePNG(t, mediatest.Solid(1000, 300, color.RGBA{9, 9, 9, 255})), wantRule: RuleAspect, wantFormat: "png", wantW: 1000, wantH: 300,
			wantMsg: "aspect 3.33:1",
		},
		{name: "ErrTooTall", data: mediatest.SolidWebP(300, 751, color.RGBA{1, 1, 1, 255}), wantRule: RuleAspect, wantFormat: "webp", wantW: 300, wantH: 751},
		{name: "ErrNotAnImage", data: []byte("%PDF-1.7 this is a document, not a picture"), wantRule: RuleFormat, wantMsg: "not a JPEG, PNG or WebP"},
		{name: "ErrEmpty", data: nil, wantRule: RuleFormat},
		{name: "ErrGIF", data: []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), wantRule: RuleFormat},
		{name: "ErrCorruptPNG", data: corruptPNG, wantRule: RuleFormat, wantFormat: "png", wantMsg: "damaged"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			info, got, err := CheckImage(bytes.NewReader(tt.data), KlingImageRules())
			if !bytes.Equal(got, tt.data) {
				t.Errorf("returned %d bytes, want the %d bytes read", len(got), len(tt.data))
			}
			if info.Bytes != int64(len(tt.data)) {
				t.Errorf("Bytes = %d, want %d", info.Bytes, len(tt.data))
			}
			if info.Format != tt.wantFormat || info.Width != tt.wantW || info.Height != tt.wantH {
				t.Errorf("info = %+v, want %s %dx%d", info, tt.wantFormat, tt.wantW, tt.wantH)
			}
			if tt.wantFormat != "" && info.Mime != "image/"+tt.wantFormat {
				t.Errorf("Mime = %q", info.Mime)
			}
			if tt.wantRule == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			var re *RuleError
			if !errors.As(err, &re) {
				t.Fatalf("error = %v, want *RuleError", err)
			}
			if re.Rule != tt.wantRule {
				t.Errorf("Rule = %q, want %q (%s)", re.Rule, tt.wantRule, re.Message)
			}
			if !strings.Contains(re.Error(), tt.wantMsg) {
				t.Errorf("message %q does not contain %q", re.Error(), tt.wantMsg)
			}
		})
	}
}

// endlessReader yields a PNG signature and then zeros for ever, counting
// what was read.
type endlessReader struct{ n int64 }

func (r *endlessReader) Read(p []byte) (int, error) {
	sig := "\x89PNG\r\n\x1a\n"
	for i := range p {
		if r.n+int64(i) < int64(len(sig)) {
			p[i] = sig[r.n+int64(i)]
		} else {
			p[i] = 0
		}
	}
	r.n += int64(len(p))
	return len(p), nil
}

func TestCheckImage_ErrSize(t *testing.T) {
	t.Parallel()

	rules := KlingImageRules()
	src := &endlessReader{}
	info, data, err := CheckImage(src, rules)
	var re *RuleError
	if !errors.As(err, &re) || re.Rule != RuleSize {
		t.Fatalf("error = %v, want size RuleError", err)
	}
	if re.Message != "image is larger than the 10 MB limit" {
		t.Errorf("message = %q", re.Message)
	}
	if src.n != rules.MaxBytes+1 || int64(len(data)) != rules.MaxBytes+1 || info.Bytes != rules.MaxBytes+1 {
		t.Errorf("read %d bytes (returned %d), want exactly MaxBytes+1 = %d", src.n, len(data), rules.MaxBytes+1)
	}
}

func TestCheckImage_ZeroRulesDisabled(t *testing.T) {
	t.Parallel()

	data := mediatest.EncodePNG(t, mediatest.Photo(40, 10))
	info, _, err := CheckImage(bytes.NewReader(data), ImageRules{})
	if err != nil || info.Width != 40 || info.Height != 10 {
		t.Fatalf("info %+v, err %v; zero rules must accept any readable image", info, err)
	}
}

func TestCheckImage_ErrRead(t *testing.T) {
	t.Parallel()

	boom := errors.New("connection reset")
	_, _, err := CheckImage(io.MultiReader(strings.NewReader("\x89PNG"), errReader{boom}), KlingImageRules())
	if !errors.Is(err, boom) {
		t.Fatalf("error = %v, want the read error wrapped", err)
	}
	var re *RuleError
	if errors.As(err, &re) {
		t.Fatalf("a read failure must not look like a rule violation: %v", err)
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }
