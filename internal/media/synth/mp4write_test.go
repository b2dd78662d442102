package synth

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"math"
	"strings"
	"testing"

	mp4 "github.com/abema/go-mp4"

	"github.com/lepus-ai/lepus/internal/media"
	"github.com/lepus-ai/lepus/internal/media/mediatest"
)

func writeTestMP4(t *testing.T, img image.Image, seconds float64, opts MP4Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteMP4(&buf, img, seconds, opts); err != nil {
		t.Fatalf("WriteMP4: %v", err)
	}
	return buf.Bytes()
}

func TestWriteMP4_Duration(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		seconds float64
		opts    MP4Options
	}{
		{"5s", 5, MP4Options{MaxSide: 320}},
		{"10s", 10, MP4Options{MaxSide: 320}},
		{"5s_Motion", 5, MP4Options{MaxSide: 320, Motion: true}},
		{"10s_Motion_24fps", 10, MP4Options{MaxSide: 160, FPS: 24, Motion: true}},
		{"Fractional", 2.35, MP4Options{MaxSide: 160}},
		{"Milliseconds_PartialLastFrame", 1.234, MP4Options{MaxSide: 160, FPS: 30, Motion: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data := writeTestMP4(t, mediatest.Photo(400, 300), tt.seconds, tt.opts)
			got, err := media.MP4Duration(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("media.MP4Duration: %v", err)
			}
			if got != tt.seconds {
				t.Fatalf("duration = %v s, want exactly %v s", got, tt.seconds)
			}
		})
	}
}

func TestWriteMP4_Structure(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name        string
		w, h        int
		seconds     float64
		opts        MP4Options
		wantW       int
		wantH       int
		wantSamples int
		wantIDRs    int
	}{
		{"Still_Defaults", 800, 600, 5, MP4Options{}, 640, 480, 50, 1},
		{"Motion_IDREverySecond", 400, 300, 3, MP4Options{Motion: true, FPS: 5}, 400, 288, 15, 3},
		{"Portrait_RoundedTo16", 333, 500, 1, MP4Options{MaxSide: 250}, 160, 240, 10, 1},
		{"Tiny_AtLeastOneMacroblock", 5, 3, 0.5, MP4Options{}, 16, 16, 5, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data := writeTestMP4(t, mediatest.Photo(tt.w, tt.h), tt.seconds, tt.opts)
			info, err := mp4.Probe(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("go-mp4 cannot parse the file: %v", err)
			}
			if string(info.MajorBrand[:]) != "isom" || !info.FastStart {
				t.Errorf("brand %q, faststart %v; want isom with moov before mdat", info.MajorBrand, info.FastStart)
			}
			if len(info.Tracks) != 1 {
				t.Fatalf("%d tracks, want 1", len(info.Tracks))
			}
			tr := info.Tracks[0]
			if tr.Codec != mp4.CodecAVC1 || tr.AVC == nil || tr.AVC.Profile != 66 || tr.AVC.LengthSize != 4 {
				t.Fatalf("codec %v avc %+v; want avc1 Baseline with 4-byte lengths", tr.Codec, tr.AVC)
			}
			if int(tr.AVC.Width) != tt.wantW || int(tr.AVC.Height) != tt.wantH {
				t.Errorf("size %dx%d, want %dx%d", tr.AVC.Width, tr.AVC.Height, tt.wantW, tt.wantH)
			}
			if len(tr.Samples) != tt.wantSamples {
				t.Errorf("%d samples, want %d", len(tr.Samples), tt.wantSamples)
			}
			var ticks uint64
			for _, s := range tr.Samples {
				ticks += uint64(s.TimeDelta)
			}
			if ticks != tr.Duration || float64(ticks)/float64(tr.Timescale) != tt.seconds {
				t.Errorf("samples last %d ticks at %d/s, track says %d; want %v s", ticks, tr.Timescale, tr.Duration, tt.seconds)
			}
			idrs := checkSamples(t, data, tr)
			if len(idrs) != tt.wantIDRs {
				t.Errorf("IDR samples %v, want %d", idrs, tt.wantIDRs)
			}
			if stss := syncSamples(t, data); !equalUint32(stss, idrs) {
				t.Errorf("stss %v, but IDR pictures are samples %v", stss, idrs)
			}
		})
	}
}

// checkSamples walks every sample's length-prefixed NAL units inside the
// file and returns the 1-based numbers of samples holding an IDR slice.
func checkSamples(t *testing.T, data []byte, tr *mp4.Track) []uint32 {
	t.Helper()
	if len(tr.Chunks) != 1 {
		t.Fatalf("%d chunks, want 1", len(tr.Chunks))
	}
	off := tr.Chunks[0].DataOffset
	var idrs []uint32
	for i, s := range tr.Samples {
		end := off + uint64(s.Size)
		if end > uint64(len(data)) {
			t.Fatalf("sample %d ends at %d, past the file (%d bytes)", i+1, end, len(data))
		}
		p := data[off:end]
		for len(p) > 0 {
			if len(p) < 5 {
				t.Fatalf("sample %d: truncated NAL length", i+1)
			}
			n := binary.BigEndian.Uint32(p)
			if uint64(n)+4 > uint64(len(p)) {
				t.Fatalf("sample %d: NAL of %d bytes overruns the sample", i+1, n)
			}
			switch typ := p[4] & 0x1F; typ {
			case nalSliceIDR:
				idrs = append(idrs, uint32(i+1))
			case nalSlice:
			default:
				t.Fatalf("sample %d: unexpected NAL type %d", i+1, typ)
			}
			p = p[4+n:]
		}
		off = end
	}
	if off != uint64(len(data)) {
		t.Errorf("samples end at %d, file is %d bytes", off, len(data))
	}
	return idrs
}

func syncSamples(t *testing.T, data []byte) []uint32 {
	t.Helper()
	boxes, err := mp4.ExtractBoxWithPayload(bytes.NewReader(data), nil, mp4.BoxPath{
		mp4.BoxTypeMoov(), mp4.BoxTypeTrak(), mp4.BoxTypeMdia(), mp4.BoxTypeMinf(), mp4.BoxTypeStbl(), mp4.BoxTypeStss(),
	})
	if err != nil || len(boxes) != 1 {
		t.Fatalf("stss: %v (%d boxes)", err, len(boxes))
	}
	return boxes[0].Payload.(*mp4.Stss).SampleNumber
}

func equalUint32(a, b []uint32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestWriteMP4_Colours checks the raw I_PCM samples of a flat red picture
// against BT.601 limited range: Y 81, Cb 90, Cr 240.
func TestWriteMP4_Colours(t *testing.T) {
	t.Parallel()

	data := writeTestMP4(t, mediatest.Solid(64, 32, color.RGBA{255, 0, 0, 255}), 1, MP4Options{})
	for _, want := range [][]byte{
		bytes.Repeat([]byte{81}, 256),
		bytes.Repeat([]byte{90}, 64),
		bytes.Repeat([]byte{240}, 64),
	} {
		if !bytes.Contains(data, want) {
			t.Errorf("no macroblock with %d samples of value %d", len(want), want[0])
		}
	}
}

func TestWriteMP4_Err(t *testing.T) {
	t.Parallel()

	img := mediatest.Photo(32, 32)
	tests := []struct {
		name    string
		img     image.Image
		seconds float64
		want    string
	}{
		{"ErrZeroSeconds", img, 0, "duration"},
		{"ErrTooShort", img, 0.0001, "duration"},
		{"ErrNaN", img, math.NaN(), "duration"},
		{"ErrNegative", img, -1, "duration"},
		{"ErrTooLong", img, 3600, "duration"},
		{"ErrNilImage", nil, 5, "empty image"},
		{"ErrEmptyImage", image.NewRGBA(image.Rect(0, 0, 0, 0)), 5, "empty image"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			err := WriteMP4(&buf, tt.img, tt.seconds, MP4Options{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}
