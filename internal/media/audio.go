package media

import (
	"fmt"
	"io"

	"github.com/lepus-ai/lepus/internal/media/audioframe"
)

// Audio formats accepted by AudioDuration and MuxAudio; they are the
// Format values SniffMedia gives for audio.
const (
	AudioMP3 = "mp3"
	AudioWAV = "wav"
	AudioM4A = "m4a"
	AudioAAC = "aac"
)

// AudioDuration returns the length in seconds of an MP3, WAV, M4A (MP4
// audio) or AAC (ADTS) stream, so audio uploads (lip-sync input) can be
// checked against provider limits like videos are. format is one of the
// Audio* constants, as SniffMedia reports it.
//
// Every format is measured from its data, not from what a header claims
// (a header can say an hour over a second of sound, and the provider hears
// the sound): MP3 and AAC walk every frame (a Xing/Info or VBRI count is
// not used; the bitrate of one frame says nothing about a VBR file), WAV
// counts the whole sample frames the file holds (not the byte-rate field;
// compressed WAV is refused), M4A sums its sample table once every sample
// is found inside the file (not the mvhd/mdhd durations).
func AudioDuration(r io.ReadSeeker, format string) (float64, error) {
	if format == AudioM4A {
		return m4aDuration(r)
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return 0, fmt.Errorf("audio duration: %w", err)
	}
	var (
		secs float64
		err  error
	)
	switch format {
	case AudioMP3:
		secs, err = audioframe.MP3Duration(r)
	case AudioWAV:
		secs, err = audioframe.WAVDuration(r)
	case AudioAAC:
		secs, err = audioframe.ADTSDuration(r)
	default:
		return 0, fmt.Errorf("audio duration: unknown format %q", format)
	}
	if err != nil {
		return 0, fmt.Errorf("audio duration: %w", err)
	}
	return secs, nil
}
