package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/lepus-ai/lepus/internal/media"
	"github.com/lepus-ai/lepus/internal/media/synth"
)

// pathIdentifyFace is synchronous: it answers at once with a session, no task.
const pathIdentifyFace = "/v1/videos/identify-face"

// sessionTTL is how long an identify-face session stays usable.
const sessionTTL = 24 * time.Hour

// faceSession is one identify-face answer, kept for advanced-lip-sync: the
// video it looked at and the faces found in it.
type faceSession struct {
	id        string
	createdAt time.Time
	video     videoSource
	millis    int64 // video length
	faces     []sessionFace
}

// sessionFace is one face: its box in the first frame (empty when the frame
// could not be decoded) and the window in which it can be lip-synced.
type sessionFace struct {
	box        image.Rectangle
	start, end int64 // ms
}

// videoSource is a video a session or task works on: one this sandbox
// produced (rec) or a fetched URL.
type videoSource struct {
	rec *videoRecord
	url string
}

// loadVideo returns the MP4 bytes of a video source.
func (s *Sandbox) loadVideo(ctx context.Context, v videoSource) ([]byte, error) {
	if v.rec != nil {
		return s.videoBytes(ctx, v.rec)
	}
	in, err := s.loadVideoURL(ctx, v.url)
	if err != nil {
		return nil, err
	}
	return in.data, nil
}

// view is the video as task_info.parent_video shows it.
func (v videoSource) view(millis int64) *videoView {
	if v.rec != nil {
		return v.rec.view()
	}
	return &videoView{URL: v.url, Duration: formatSeconds(float64(millis) / 1000)}
}

type identifyFaceBody struct {
	VideoID  string `json:"video_id"`
	VideoURL string `json:"video_url"`
}

// Wire shape of the identify-face answer.
type (
	identifyFaceView struct {
		SessionID          string         `json:"session_id"`
		FinalUnitDeduction string         `json:"final_unit_deduction"`
		FaceData           []faceDataView `json:"face_data"`
	}
	faceDataView struct {
		FaceID    string `json:"face_id"`
		FaceImage string `json:"face_image"`
		StartTime int64  `json:"start_time"`
		EndTime   int64  `json:"end_time"`
	}
)

// handleIdentifyFace serves POST /v1/videos/identify-face: it checks the
// video like Kling, finds the faces of its first frame and opens a 24 h
// session. No face gives an empty face_data, as the real API does.
func (s *Sandbox) handleIdentifyFace(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		s.writeError(w, r, codeError(1200, "cannot read request body"))
		return
	}
	var b identifyFaceBody
	if e := decodeStrict(body, &b); e != nil {
		s.writeError(w, r, e)
		return
	}
	sess, e := s.openSession(r.Context(), b)
	if e != nil {
		s.writeError(w, r, e)
		return
	}
	base := s.resultBase(r)
	view := identifyFaceView{SessionID: sess.id, FinalUnitDeduction: "0", FaceData: []faceDataView{}}
	for i, f := range sess.faces {
		view.FaceData = append(view.FaceData, faceDataView{
			FaceID:    strconv.Itoa(i),
			FaceImage: fmt.Sprintf("%s/sandbox/cdn/face/%s/%d.png", base, sess.id, i),
			StartTime: f.start,
			EndTime:   f.end,
		})
	}
	s.writeData(w, r, view)
}

// openSession checks the video, detects faces and stores the session.
func (s *Sandbox) openSession(ctx context.Context, b identifyFaceBody) (*faceSession, *apiError) {
	if (b.VideoID == "") == (b.VideoURL == "") {
		return nil, invalidf("exactly one of video_id and video_url is required")
	}
	var (
		src  videoSource
		data []byte
		secs float64
	)
	if b.VideoID != "" {
		rec, e := s.producedVideo("video_id", b.VideoID)
		if e != nil {
			return nil, e
		}
		if rec.seconds > 60 {
			return nil, invalidf("video_id: video is %s s long; it must be at most 60 s", formatSeconds(rec.seconds))
		}
		d, err := s.videoBytes(ctx, rec)
		if err != nil {
			s.log.Error("sandbox: render video for identify-face", "video_id", rec.id, "err", err)
			return nil, codeError(5000, "")
		}
		src, data, secs = videoSource{rec: rec}, d, rec.seconds
	} else {
		in, e := s.inputVideo(ctx, "video_url", b.VideoURL, videoLimits{minSecs: 2, maxSecs: 60, minSide: 512, maxSide: 2160})
		if e != nil {
			return nil, e
		}
		src, data, secs = videoSource{url: b.VideoURL}, in.data, in.seconds
	}
	millis := int64(secs*1000 + 0.5)
	sess := &faceSession{id: "sess-" + requestID(), createdAt: s.cfg.Now(), video: src, millis: millis}
	var boxes []image.Rectangle
	_ = s.cpu(func() error { boxes = findFaces(data); return nil })
	for _, box := range boxes {
		sess.faces = append(sess.faces, sessionFace{box: box, start: 0, end: millis})
	}
	s.mu.Lock()
	s.sweepSessionsLocked()
	s.sessions[sess.id] = sess
	s.mu.Unlock()
	s.saveSession(sess)
	return sess, nil
}

// findFaces returns the face boxes of the video's first frame. A frame this
// package cannot decode (a real encoder's video) is taken to show one face
// over the whole video, with an empty box.
func findFaces(data []byte) []image.Rectangle {
	frame, err := synth.FirstFrame(bytes.NewReader(data))
	if errors.Is(err, synth.ErrUndecodable) {
		return []image.Rectangle{{}}
	}
	if err != nil {
		return nil
	}
	return media.DetectFaces(frame)
}

// session returns a live session, or the 1201 Kling sends for a missing or
// expired one.
func (s *Sandbox) session(id string) (*faceSession, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := s.sessions[id]
	if sess == nil || s.cfg.Now().Sub(sess.createdAt) > sessionTTL {
		return nil, invalidf("session_id %q does not exist or has expired", id)
	}
	return sess, nil
}

// sweepSessionsLocked forgets sessions past their 24 h. Caller holds s.mu.
func (s *Sandbox) sweepSessionsLocked() {
	now := s.cfg.Now()
	for id, sess := range s.sessions {
		if now.Sub(sess.createdAt) > sessionTTL {
			delete(s.sessions, id)
			_ = s.store.remove(kindSession, id)
		}
	}
}

// handleFaceImage serves GET /sandbox/cdn/face/{session}/{file}: the face
// crop of an identify-face answer, made on first download.
func (s *Sandbox) handleFaceImage(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("session")
	idxStr, ext, _ := strings.Cut(r.PathValue("file"), ".")
	idx, err := strconv.Atoi(idxStr)
	s.mu.Lock()
	sess := s.sessions[id]
	s.mu.Unlock()
	if err != nil || sess == nil || ext != "png" || idx < 0 || idx >= len(sess.faces) {
		http.NotFound(w, r)
		return
	}
	data, err := s.faceImage(sess, idx)
	if err != nil {
		s.log.Error("sandbox: render face image", "session_id", id, "index", idx, "err", err)
		http.Error(w, "cannot render face image", http.StatusBadGateway)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	http.ServeContent(w, r, r.PathValue("file"), time.Time{}, bytes.NewReader(data))
}

// faceImage crops face idx out of the session video's first frame, through
// the result cache; an undecodable frame gives a plain canvas.
func (s *Sandbox) faceImage(sess *faceSession, idx int) ([]byte, error) {
	return s.cachedRender("face/"+sess.id+"/"+strconv.Itoa(idx), func(ctx context.Context) ([]byte, error) {
		var crop image.Image = canvas("1:1", 256, sess.id)
		if box := sess.faces[idx].box; !box.Empty() {
			data, err := s.loadVideo(ctx, sess.video)
			if err != nil {
				return nil, err
			}
			frame, err := synth.FirstFrame(bytes.NewReader(data))
			if err != nil {
				return nil, fmt.Errorf("first frame: %w", err)
			}
			if sub, ok := frame.(interface {
				SubImage(image.Rectangle) image.Image
			}); ok {
				crop = sub.SubImage(box)
			}
		}
		return encodePNG(crop)
	})
}
