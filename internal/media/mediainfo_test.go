package media_test

import (
	"errors"
	"image/color"
	"testing"

	"github.com/lepus-ai/lepus/internal/media/mediatest"

	"github.com/lepus-ai/lepus/internal/media/synth"

	"github.com/lepus-ai/lepus/internal/media"
)

// ftypHead returns an ftyp box with the given brands followed by a
// zero-filled box, 64 bytes or more like a real head.
func ftypHead(major string, compat ...string) []byte {
	var x box
	x.str(major)
	x.u32(0)
	for _, c := range compat {
		x.str(c)
	}
	return append(mkbox("ftyp", x.b), mkbox("free", make([]byte, 48))...)
}

func TestSniffMedia(t *testing.T) {
	t.Parallel()

	mp4 := writeTestMP4(t, mediatest.Photo(32, 32), 0.5, synth.MP4Options{})
	aacAfterID3 := append(id3Tag(100), synth.SilentADTS(0.2)...)
	tests := []struct {
		name       string
		head       []byte
		wantKind   string
		wantFormat string
		wantMime   string
	}{
		{"JPEG", mediatest.EncodeJPEG(t, mediatest.Photo(16, 16)), media.KindImage, "jpeg", "image/jpeg"},
		{"PNG", mediatest.EncodePNG(t, mediatest.Photo(16, 16)), media.KindImage, "png", "image/png"},
		{"WebP", mediatest.SolidWebP(8, 8, color.RGBA{1, 2, 3, 255}), media.KindImage, "webp", "image/webp"},
		{"MP4_Written", mp4, media.KindVideo, "mp4", "video/mp4"},
		{"MP4_mp42", ftypHead("mp42", "isom", "mp42"), media.KindVideo, "mp4", "video/mp4"},
		{"MP4_UnknownMajorISOCompat", ftypHead("abcd", "wxyz", "iso6"), media.KindVideo, "mp4", "video/mp4"},
		{"MOV", ftypHead("qt  ", "qt  "), media.KindVideo, "mov", "video/quicktime"},
		{"MOV_CompatOnly", ftypHead("abcd", "isom", "qt  "), media.KindVideo, "mov", "video/quicktime"},
		{"M4A_Written", synth.SilentM4A(0.5), media.KindAudio, "m4a", "audio/mp4"},
		{"M4B", ftypHead("M4B ", "isom"), media.KindAudio, "m4a", "audio/mp4"},
		{"M4A_CompatOverISO", ftypHead("abcd", "isom", "M4A "), media.KindAudio, "m4a", "audio/mp4"},
		{"MP3_Frames", synth.SilentMP3(0.2, false), media.KindAudio, "mp3", "audio/mpeg"},
		{"MP3_Xing", synth.SilentMP3(0.2, true), media.KindAudio, "mp3", "audio/mpeg"},
		{"MP3_ID3", append(id3Tag(5000), synth.SilentMP3(0.2, false)...)[:4096], media.KindAudio, "mp3", "audio/mpeg"},
		{"WAV", synth.SineWAV(0.1, 8000), media.KindAudio, "wav", "audio/wav"},
		{"AAC_ADTS", synth.SilentADTS(0.2), media.KindAudio, "aac", "audio/aac"},
		{"AAC_AfterID3", aacAfterID3, media.KindAudio, "aac", "audio/aac"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			head := tt.head[:min(len(tt.head), 4096)]
			got, err := media.SniffMedia(head)
			if err != nil {
				t.Fatalf("media.SniffMedia: %v", err)
			}
			want := media.MediaInfo{Kind: tt.wantKind, Format: tt.wantFormat, Mime: tt.wantMime}
			if got != want {
				t.Fatalf("got %+v, want %+v", got, want)
			}
		})
	}
}

func TestSniffMedia_Err(t *testing.T) {
	t.Parallel()

	// An MP3 header followed by something that is not the next frame.
	loneHeader := append([]byte{0xFF, 0xFB, 0x90, 0xC0}, make([]byte, 600)...)
	copy(loneHeader[417:], "garbage")
	// Layer I and II headers are MPEG audio but not MP3.
	layerII := append([]byte{0xFF, 0xFD, 0x90, 0xC0}, make([]byte, 60)...)
	tests := map[string][]byte{
		"ErrEmpty":         nil,
		"ErrText":          []byte("Hello, this is plain text and certainly not a media file of any kind."),
		"ErrFtypNoBrands":  ftypHead("abcd", "wxyz"),
		"ErrRIFFNotWave":   append([]byte("RIFF\x10\x00\x00\x00AVI LIST"), make([]byte, 60)...),
		"ErrLoneMP3Header": loneHeader,
		"ErrLayerII":       layerII,
		"ErrZeros":         make([]byte, 128),
	}
	for name, head := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := media.SniffMedia(head)
			if !errors.Is(err, media.ErrUnknownMedia) {
				t.Fatalf("got %+v, %v; want media.ErrUnknownMedia", got, err)
			}
		})
	}
}
