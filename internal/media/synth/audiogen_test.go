package synth

import (
	"bytes"
	"encoding/binary"
	"math"
	"testing"

	"github.com/lepus-ai/lepus/internal/media/audioframe"
)

// TestSilentMP3_Frames checks the generator makes the constant bitrate it
// claims: every frame a valid 128 kbit/s header, padding spread so the
// average is exact.
func TestSilentMP3_Frames(t *testing.T) {
	t.Parallel()

	data := SilentMP3(10, false)
	frames := 0
	for p := data; len(p) > 0; frames++ {
		h, ok := audioframe.ParseMP3Header(p)
		if !ok || h.Bitrate != 128000 || h.SampleRate != 44100 || !h.Mono {
			t.Fatalf("frame %d: header % x invalid or not 128k/44.1k mono", frames, p[:4])
		}
		p = p[h.Size:]
	}
	if want := int(math.Round(10 * 44100 / 1152.0)); frames != want {
		t.Fatalf("%d frames, want %d", frames, want)
	}
	if got, want := float64(len(data))*8/(float64(frames)*1152/44100), 128000.0; math.Abs(got-want) > 50 {
		t.Errorf("average bitrate %v, want %v", got, want)
	}
}

func TestSineWAV(t *testing.T) {
	t.Parallel()

	data := SineWAV(0.5, 8000)
	w, err := audioframe.ReadWAV(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if w.Channels != 1 || w.BitsPerSample != 16 || w.SampleRate != 8000 || w.DataLen != 8000 {
		t.Fatalf("wav %+v, want mono 16-bit 8 kHz with 4000 samples", w)
	}
	var peak int16
	for i := w.DataOff; i < w.DataOff+w.DataLen; i += 2 {
		peak = max(peak, int16(binary.LittleEndian.Uint16(data[i:])))
	}
	if peak < 3000 || peak > 3300 {
		t.Errorf("peak %d, want a quiet tone near a tenth of full scale", peak)
	}
}
