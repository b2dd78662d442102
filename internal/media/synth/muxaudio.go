package synth

import (
	"bytes"
	"fmt"
	"io"

	mp4 "github.com/abema/go-mp4"

	"github.com/lepus-ai/lepus/internal/media"
)

// MuxAudio writes to w an MP4 holding the H.264 video track of video (its
// samples, sizes, timing, avcC and the start of its edit list copied as
// they are, not re-encoded) and
// an audio track made from audio, so the sandbox's lip-sync result is the
// input video with the audio laid on it. audioFormat is one of the Audio*
// constants:
//
//   - AudioM4A: the AAC samples and sample entry (esds) of the first AAC
//     track are copied, and so is where its edit list starts playing
//     (skipping encoder priming).
//   - AudioAAC: ADTS headers are stripped and an AudioSpecificConfig is
//     built from the first header.
//   - AudioMP3: each frame is a sample of an 'mp4a' entry with
//     objectTypeIndication 0x6B (0x69 for MPEG-2/2.5 rates); a Xing/Info
//     frame is dropped.
//   - AudioWAV: 16-bit PCM as a QuickTime 'sowt' entry. ffmpeg and
//     QuickTime play it, but browsers generally do not play PCM in MP4.
//
// The output lasts as long as the video: audio beyond it is cut (the last
// kept frame is shortened in the sample table), shorter audio just ends.
// moov comes before mdat and the tracks are interleaved in half-second
// chunks, so playback can start while downloading.
func MuxAudio(w io.Writer, video io.ReadSeeker, audio []byte, audioFormat string) error {
	vt, err := readMP4Track(video, mp4.CodecAVC1)
	if err != nil {
		return fmt.Errorf("mux audio: video: %w", err)
	}
	var at *muxTrack
	switch audioFormat {
	case media.AudioM4A:
		at, err = readMP4Track(bytes.NewReader(audio), mp4.CodecMP4A)
	case media.AudioAAC:
		at, err = adtsTrack(audio)
	case media.AudioMP3:
		at, err = mp3Track(audio)
	case media.AudioWAV:
		at, err = wavTrack(audio)
	default:
		return fmt.Errorf("mux audio: unknown audio format %q", audioFormat)
	}
	if err != nil {
		return fmt.Errorf("mux audio: %s: %w", audioFormat, err)
	}
	at.cut(rescale(vt.presented(), vt.timescale, at.timescale))
	if at.count() == 0 {
		return fmt.Errorf("mux audio: %s: no audio within the video's duration", audioFormat)
	}
	if err := writeMovie(w, ftypBox(), vt.timescale, []*muxTrack{vt, at}); err != nil {
		return fmt.Errorf("mux audio: %w", err)
	}
	return nil
}
