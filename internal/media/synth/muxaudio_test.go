package synth

import (
	"bytes"
	"math"
	"strings"
	"testing"

	mp4 "github.com/abema/go-mp4"

	"github.com/lepus-ai/lepus/internal/media"
	"github.com/lepus-ai/lepus/internal/media/mediatest"
)

// sampleBytes returns the bytes of every sample of a probed track.
func sampleBytes(t *testing.T, data []byte, tr *mp4.Track) [][]byte {
	t.Helper()
	var out [][]byte
	si := 0
	for _, c := range tr.Chunks {
		off := c.DataOffset
		for range c.SamplesPerChunk {
			if si >= len(tr.Samples) {
				t.Fatalf("chunks hold more than %d samples", len(tr.Samples))
			}
			end := off + uint64(tr.Samples[si].Size)
			if end > uint64(len(data)) {
				t.Fatalf("sample %d ends past the file", si+1)
			}
			out = append(out, data[off:end])
			off = end
			si++
		}
	}
	if si != len(tr.Samples) {
		t.Fatalf("chunks hold %d of %d samples", si, len(tr.Samples))
	}
	return out
}

func trackSeconds(tr *mp4.Track) float64 {
	var ticks uint64
	for _, s := range tr.Samples {
		ticks += uint64(s.TimeDelta)
	}
	return float64(ticks) / float64(tr.Timescale)
}

func TestMuxAudio(t *testing.T) {
	t.Parallel()

	video := writeTestMP4(t, mediatest.Photo(64, 48), 3, MP4Options{Motion: true, FPS: 12})
	vinfo, err := mp4.Probe(bytes.NewReader(video))
	if err != nil {
		t.Fatal(err)
	}
	vsrc := vinfo.Tracks[0]

	tests := []struct {
		name       string
		audio      []byte
		format     string
		wantCodec  mp4.Codec
		wantOTI    uint8
		wantEntry  string
		wantAudio  float64 // audio track seconds
		firstFrame []byte  // the first audio sample, when known
	}{
		{"M4A_Longer", SilentM4A(5), media.AudioM4A, mp4.CodecMP4A, 0x40, "mp4a", 3, silentAACFrame},
		{"AAC_Longer", SilentADTS(5), media.AudioAAC, mp4.CodecMP4A, 0x40, "mp4a", 3, silentAACFrame},
		{"AAC_Shorter", SilentADTS(1), media.AudioAAC, mp4.CodecMP4A, 0x40, "mp4a", 43 * 1024 / 44100.0, silentAACFrame},
		{"MP3_Longer", SilentMP3(4, true), media.AudioMP3, mp4.CodecMP4A, 0x6B, "mp4a", 3, nil},
		{"MP3_Shorter", SilentMP3(2, false), media.AudioMP3, mp4.CodecMP4A, 0x6B, "mp4a", 77 * 1152 / 44100.0, nil},
		{"WAV_Longer", SineWAV(3.5, 16000), media.AudioWAV, mp4.CodecUnknown, 0, "sowt", 3, nil},
		{"WAV_Shorter", SineWAV(1.25, 8000), media.AudioWAV, mp4.CodecUnknown, 0, "sowt", 1.25, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			if err := MuxAudio(&buf, bytes.NewReader(video), tt.audio, tt.format); err != nil {
				t.Fatalf("MuxAudio: %v", err)
			}
			out := buf.Bytes()
			if d, err := media.MP4Duration(bytes.NewReader(out)); err != nil || d != 3 {
				t.Fatalf("duration %v, %v; want the video's 3 s", d, err)
			}
			info, err := mp4.Probe(bytes.NewReader(out))
			if err != nil {
				t.Fatalf("go-mp4: %v", err)
			}
			if len(info.Tracks) != 2 || !info.FastStart {
				t.Fatalf("%d tracks, faststart %v; want video and audio, moov first", len(info.Tracks), info.FastStart)
			}
			v, a := info.Tracks[0], info.Tracks[1]

			// The video track is the source's, sample for sample.
			if v.Codec != mp4.CodecAVC1 || v.Timescale != vsrc.Timescale || len(v.Samples) != len(vsrc.Samples) {
				t.Fatalf("video track %+v, want the source's", v)
			}
			got, want := sampleBytes(t, out, v), sampleBytes(t, video, vsrc)
			for i := range want {
				if !bytes.Equal(got[i], want[i]) || v.Samples[i].TimeDelta != vsrc.Samples[i].TimeDelta {
					t.Fatalf("video sample %d differs from the source", i+1)
				}
			}
			if syncs := syncSamplesOf(t, out, 0); !equalUint32(syncs, syncSamplesOf(t, video, 0)) {
				t.Errorf("sync samples %v differ from the source's", syncs)
			}

			if a.Codec != tt.wantCodec || (tt.wantOTI != 0 && (a.MP4A == nil || a.MP4A.OTI != tt.wantOTI)) {
				t.Errorf("audio codec %v, mp4a %+v; want codec %v oti %#x", a.Codec, a.MP4A, tt.wantCodec, tt.wantOTI)
			}
			if !bytes.Contains(out, []byte(tt.wantEntry)) {
				t.Errorf("no %q sample entry", tt.wantEntry)
			}
			if secs := trackSeconds(a); math.Abs(secs-tt.wantAudio) > 1e-9 {
				t.Errorf("audio lasts %v s, want %v s", secs, tt.wantAudio)
			}
			if tt.format == media.AudioWAV {
				// PCM frames share one size, which go-mp4 leaves out of its
				// per-sample sizes: compare the chunks with the WAV data.
				var pcm []byte
				for _, c := range a.Chunks {
					pcm = append(pcm, out[c.DataOffset:c.DataOffset+2*uint64(c.SamplesPerChunk)]...)
				}
				if want := tt.audio[44 : 44+len(pcm)]; len(pcm) != 2*len(a.Samples) || !bytes.Equal(pcm, want) {
					t.Errorf("PCM in the file (%d bytes) is not the WAV's first %d frames", len(pcm), len(a.Samples))
				}
			}
			if tt.firstFrame != nil {
				if first := sampleBytes(t, out, a)[0]; !bytes.Equal(first, tt.firstFrame) {
					t.Errorf("first audio sample % x, want % x", first, tt.firstFrame)
				}
			}
		})
	}
}

// syncSamplesOf returns the stss table of the n-th track.
func syncSamplesOf(t *testing.T, data []byte, n int) []uint32 {
	t.Helper()
	boxes, err := mp4.ExtractBoxWithPayload(bytes.NewReader(data), nil, mp4.BoxPath{
		mp4.BoxTypeMoov(), mp4.BoxTypeTrak(), mp4.BoxTypeMdia(), mp4.BoxTypeMinf(), mp4.BoxTypeStbl(), mp4.BoxTypeStss(),
	})
	if err != nil || len(boxes) <= n {
		t.Fatalf("stss: %v (%d boxes)", err, len(boxes))
	}
	return boxes[n].Payload.(*mp4.Stss).SampleNumber
}

// TestMuxAudio_Interleaved checks audio and video alternate in mdat in
// half-second chunks, so a player streaming the file gets both early.
func TestMuxAudio_Interleaved(t *testing.T) {
	t.Parallel()

	video := writeTestMP4(t, mediatest.Photo(32, 32), 2, MP4Options{})
	var buf bytes.Buffer
	if err := MuxAudio(&buf, bytes.NewReader(video), SineWAV(2, 8000), media.AudioWAV); err != nil {
		t.Fatal(err)
	}
	info, err := mp4.Probe(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	v, a := info.Tracks[0], info.Tracks[1]
	if len(v.Chunks) != 4 || len(a.Chunks) != 4 {
		t.Fatalf("%d video and %d audio chunks, want 4 each", len(v.Chunks), len(a.Chunks))
	}
	for i := range 4 {
		if v.Chunks[i].DataOffset >= a.Chunks[i].DataOffset {
			t.Fatalf("chunk %d: video at %d is not before audio at %d", i, v.Chunks[i].DataOffset, a.Chunks[i].DataOffset)
		}
		if i > 0 && a.Chunks[i-1].DataOffset >= v.Chunks[i].DataOffset {
			t.Fatalf("chunk %d: audio of the previous half second comes after this video", i)
		}
	}
	if a.Chunks[0].SamplesPerChunk != 4000 {
		t.Errorf("%d PCM frames per chunk, want 4000 (0.5 s at 8 kHz)", a.Chunks[0].SamplesPerChunk)
	}
}

func TestMuxAudio_Err(t *testing.T) {
	t.Parallel()

	video := writeTestMP4(t, mediatest.Photo(32, 32), 1, MP4Options{})
	wav8 := mediatest.WAVWith(mediatest.WAVChunk{ID: "fmt ", Body: mediatest.FmtChunk(1, 8000, 8)}, mediatest.WAVChunk{ID: "data", Body: make([]byte, 800)})
	tests := []struct {
		name   string
		video  []byte
		audio  []byte
		format string
		want   string
	}{
		{"ErrUnknownFormat", video, SineWAV(1, 8000), "flac", "unknown audio format"},
		{"ErrVideoIsAudio", SilentM4A(1), SineWAV(1, 8000), media.AudioWAV, "video"},
		{"ErrVideoNotMP4", []byte("not a video"), SineWAV(1, 8000), media.AudioWAV, "video"},
		{"ErrWAV8Bit", video, wav8, media.AudioWAV, "16-bit"},
		{"ErrMP3Garbage", video, []byte(strings.Repeat("x", 500)), media.AudioMP3, "no audio frames"},
		{"ErrAACIsWAV", video, SineWAV(1, 8000), media.AudioAAC, "no adts frames"},
		{"ErrM4AIsVideo", video, video, media.AudioM4A, "m4a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			err := MuxAudio(&buf, bytes.NewReader(tt.video), tt.audio, tt.format)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

// TestMuxAudio_EditLists feeds a video that starts presentation one frame
// into its composition timeline (as B-frame encoders write it) and an M4A
// with 1024 samples of encoder priming: both edits survive, and the audio
// is cut relative to where it starts playing.
func TestMuxAudio_EditLists(t *testing.T) {
	t.Parallel()

	still := writeTestMP4(t, mediatest.Photo(32, 32), 3, MP4Options{}) // 10 fps: 1000 ticks a frame
	vt, err := readMP4Track(bytes.NewReader(still), mp4.CodecAVC1)
	if err != nil {
		t.Fatal(err)
	}
	vt.ctsOffsets = make([]int32, vt.count())
	for i := range vt.ctsOffsets {
		vt.ctsOffsets[i] = 1000
	}
	vt.edit = &trackEdit{mediaStart: 1000, length: 20000} // show 2 s from 0.1 s
	var video bytes.Buffer
	if err := writeMovie(&video, ftypBox(), vt.timescale, []*muxTrack{vt}); err != nil {
		t.Fatal(err)
	}
	at, err := adtsTrack(SilentADTS(5))
	if err != nil {
		t.Fatal(err)
	}
	at.edit = &trackEdit{mediaStart: 1024, length: at.duration() - 1024}
	var m4a bytes.Buffer
	if err := writeMovie(&m4a, ftypBox(), at.timescale, []*muxTrack{at}); err != nil {
		t.Fatal(err)
	}

	var buf bytes.Buffer
	if err := MuxAudio(&buf, bytes.NewReader(video.Bytes()), m4a.Bytes(), media.AudioM4A); err != nil {
		t.Fatalf("MuxAudio: %v", err)
	}
	if d, err := media.MP4Duration(bytes.NewReader(buf.Bytes())); err != nil || d != 2 {
		t.Fatalf("duration %v, %v; want the video's edited 2 s", d, err)
	}
	info, err := mp4.Probe(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	v, a := info.Tracks[0], info.Tracks[1]
	if len(v.EditList) != 1 || v.EditList[0].MediaTime != 1000 || v.EditList[0].SegmentDuration != 20000 {
		t.Errorf("video edits %+v, want one from 1000 lasting 20000", v.EditList)
	}
	if v.Samples[0].CompositionTimeOffset != 1000 || len(v.Samples) != 30 {
		t.Errorf("video has %d samples, first offset %d; want the source's 30 with offset 1000",
			len(v.Samples), v.Samples[0].CompositionTimeOffset)
	}
	if len(a.EditList) != 1 || a.EditList[0].MediaTime != 1024 || a.EditList[0].SegmentDuration != 20000 {
		t.Errorf("audio edits %+v, want one from 1024 lasting 2 s (20000 movie ticks)", a.EditList)
	}
	if got, want := trackSeconds(a), (1024+2*44100)/44100.0; math.Abs(got-want) > 1e-9 {
		t.Errorf("audio media lasts %v s, want %v (priming plus 2 s)", got, want)
	}
}
