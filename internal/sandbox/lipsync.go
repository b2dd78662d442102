package sandbox

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strconv"

	"github.com/lepus-ai/lepus/internal/media"
)

// lipSyncBody is the request of POST /v1/videos/advanced-lip-sync
// (kling-api.md §5.6.2). There is no model_name, mode or face_index: the
// strict decoder refuses them (contract decision #6).
type lipSyncBody struct {
	SessionID  string       `json:"session_id"`
	FaceChoose []faceChoose `json:"face_choose"`
	common
}

type faceChoose struct {
	FaceID              string   `json:"face_id"`
	AudioID             string   `json:"audio_id"`
	SoundFile           string   `json:"sound_file"`
	SoundStartTime      *int64   `json:"sound_start_time"`
	SoundEndTime        *int64   `json:"sound_end_time"`
	SoundInsertTime     *int64   `json:"sound_insert_time"`
	SoundVolume         *float64 `json:"sound_volume"`
	OriginalAudioVolume *float64 `json:"original_audio_volume"`
}

// Lip-sync audio limits: mp3/wav/m4a/aac, ≤ 5 MB, 2–60 s; the clip cut
// from it and its overlap with the face's window are at least 2 s.
const (
	maxAudioBytes = 5 << 20
	minClipMillis = 2000
)

// lipSyncModel is recorded as the maker of lip-synced videos, which
// video-extend does not take.
const lipSyncModel = "advanced-lip-sync"

func lipSyncEndpoint() *endpoint {
	return &endpoint{path: "/v1/videos/advanced-lip-sync", video: true, validate: validateLipSync}
}

func validateLipSync(body []byte) (*spec, *apiError) {
	var b lipSyncBody
	if e := decodeStrict(body, &b); e != nil {
		return nil, e
	}
	if b.SessionID == "" {
		return nil, invalidf("session_id is required")
	}
	if len(b.FaceChoose) != 1 {
		return nil, invalidf("face_choose must hold exactly one face, got %d", len(b.FaceChoose))
	}
	fc := b.FaceChoose[0]
	if e := fc.check(); e != nil {
		return nil, e
	}
	if e := b.common.check(); e != nil {
		return nil, e
	}
	sp := &spec{cost: 1, model: lipSyncModel}
	b.common.apply(sp)
	sp.outputs = []output{{ext: "mp4"}}
	r := &lipSyncRender{sound: fc.SoundFile}
	sp.render = r.render
	sp.checks = append(sp.checks, func(ctx context.Context, s *Sandbox) *apiError {
		sess, e := s.session(b.SessionID)
		if e != nil {
			return e
		}
		if fc.AudioID != "" {
			// The sandbox has no text-to-speech, so no audio id exists.
			return invalidf("face_choose[0].audio_id %q does not exist", fc.AudioID)
		}
		audio, err := s.loadAudio(ctx, fc.SoundFile)
		if err != nil {
			return invalidf("face_choose[0].sound_file: %v", err)
		}
		if e := fc.fits(sess, audio); e != nil {
			return e
		}
		r.video = sess.video
		sp.parent = sess.video.view(sess.millis)
		sp.outputs[0].duration = formatSeconds(float64(sess.millis) / 1000)
		return nil
	})
	return sp, nil
}

// check applies the rules that need nothing but the request.
func (fc *faceChoose) check() *apiError {
	if fc.FaceID == "" {
		return invalidf("face_choose[0].face_id is required")
	}
	if (fc.AudioID == "") == (fc.SoundFile == "") {
		return invalidf("face_choose[0]: exactly one of audio_id and sound_file is required")
	}
	if fc.SoundFile != "" {
		if e := checkSource("face_choose[0].sound_file", fc.SoundFile); e != nil {
			return e
		}
	}
	for _, f := range []struct {
		name string
		v    *int64
	}{{"sound_start_time", fc.SoundStartTime}, {"sound_end_time", fc.SoundEndTime}, {"sound_insert_time", fc.SoundInsertTime}} {
		if f.v == nil {
			return invalidf("face_choose[0].%s is required", f.name)
		}
		if *f.v < 0 {
			return invalidf("face_choose[0].%s must be >= 0, got %d", f.name, *f.v)
		}
	}
	if *fc.SoundEndTime <= *fc.SoundStartTime {
		return invalidf("face_choose[0].sound_end_time must be after sound_start_time")
	}
	if clip := *fc.SoundEndTime - *fc.SoundStartTime; clip < minClipMillis {
		return invalidf("face_choose[0]: the audio clip must be at least 2000 ms, got %d ms", clip)
	}
	for _, f := range []struct {
		name string
		v    *float64
	}{{"sound_volume", fc.SoundVolume}, {"original_audio_volume", fc.OriginalAudioVolume}} {
		if f.v != nil {
			if e := checkUnit("face_choose[0]."+f.name, *f.v, 0, 2); e != nil {
				return e
			}
		}
	}
	return nil
}

// fits checks the face and times against the session and the audio: the
// clip ends inside the audio, the inserted span stays inside the video and
// overlaps the face's window by at least 2 s.
func (fc *faceChoose) fits(sess *faceSession, audio *audioInput) *apiError {
	idx, err := strconv.Atoi(fc.FaceID)
	if err != nil || idx < 0 || idx >= len(sess.faces) || strconv.Itoa(idx) != fc.FaceID {
		return invalidf("face_choose[0].face_id %q is not a face of session %s", fc.FaceID, sess.id)
	}
	face := sess.faces[idx]
	audioMillis := int64(audio.seconds*1000 + 0.5)
	if *fc.SoundEndTime > audioMillis {
		return invalidf("face_choose[0].sound_end_time %d is past the end of the audio (%d ms)", *fc.SoundEndTime, audioMillis)
	}
	start := *fc.SoundInsertTime
	end := start + *fc.SoundEndTime - *fc.SoundStartTime
	if end > sess.millis {
		return invalidf("face_choose[0]: the inserted audio (%d–%d ms) must stay inside the video (%d ms)", start, end, sess.millis)
	}
	if overlap := min(end, face.end) - max(start, face.start); overlap < minClipMillis {
		return invalidf("face_choose[0]: the inserted audio must overlap the face's window (%d–%d ms) by at least 2000 ms", face.start, face.end)
	}
	return nil
}

// audioInput is a fetched, checked sound file.
type audioInput struct {
	data    []byte
	format  string
	seconds float64
}

// loadAudio fetches or decodes a sound file (cached like images) and checks
// it like Kling: mp3/wav/m4a/aac, at most 5 MB, 2–60 s.
func (s *Sandbox) loadAudio(ctx context.Context, source string) (*audioInput, error) {
	sum := sha256.Sum256([]byte("audio\x00" + source))
	key := string(sum[:])
	data, ok := s.inputs.get(key)
	if !ok {
		raw, err := s.readSourceMax(ctx, source, maxAudioBytes)
		if errors.Is(err, errTooLarge) {
			return nil, errors.New("audio is larger than the 5 MB limit")
		}
		if err != nil {
			return nil, err
		}
		data = raw
	}
	info, err := media.SniffMedia(data[:min(len(data), 4096)])
	if err != nil || info.Kind != media.KindAudio {
		return nil, errors.New("audio must be an mp3, wav, m4a or aac file")
	}
	secs, err := media.AudioDuration(bytes.NewReader(data), info.Format)
	if err != nil {
		return nil, fmt.Errorf("cannot read the audio length: %w", err)
	}
	if secs < 2 || secs > 60 {
		return nil, fmt.Errorf("audio is %s s long; it must be 2–60 s", formatSeconds(secs))
	}
	s.inputs.add(key, data)
	return &audioInput{data: data, format: info.Format, seconds: secs}, nil
}

// lipSyncRender lays the audio on the session's video. The sandbox does not
// move lips or cut the clip: the result is the input video with the sound
// file as its audio track, which is enough to tell that the right audio
// reached the right video.
type lipSyncRender struct {
	video videoSource
	sound string
}

func (r *lipSyncRender) render(ctx context.Context, s *Sandbox, _ int) ([]byte, error) {
	video, err := s.loadVideo(ctx, r.video)
	if err != nil {
		return nil, fmt.Errorf("video: %w", err)
	}
	audio, err := s.loadAudio(ctx, r.sound)
	if err != nil {
		return nil, fmt.Errorf("sound_file: %w", err)
	}
	return muxAudio(video, audio.data, audio.format)
}

// muxAudio lays audio (format as media.SniffMedia names it) on an MP4 as
// its sound track; the result lasts as long as the video.
func muxAudio(video, audio []byte, format string) ([]byte, error) {
	var buf bytes.Buffer
	if err := media.MuxAudio(&buf, bytes.NewReader(video), audio, format); err != nil {
		return nil, fmt.Errorf("mux audio: %w", err)
	}
	return buf.Bytes(), nil
}
