package sandbox_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/lepus-ai/lepus/internal/provider/kling"
)

// ruleFixtures are the real inputs the rule cases refer to as {name}.
type ruleFixtures struct {
	*bundle
	vars *strings.Replacer
}

// setupRules starts a sandbox holding the inputs every rule case needs: an
// image, videos and audio to fetch, an identify-face session with one face,
// and produced videos of an extendable and a non-extendable model.
func setupRules(t *testing.T) *ruleFixtures {
	t.Helper()
	b := setup(t, nil)
	faceVideo := b.host("face.mp4", mp4Of(t, portrait(640, 640), 4, 640))
	sess, err := b.client.IdentifyFace(context.Background(), kling.IdentifyFaceRequest{VideoURL: faceVideo})
	if err != nil || len(sess.FaceData) != 1 {
		t.Fatalf("identify-face: %+v, %v", sess, err)
	}
	v26 := b.succeed(t, kling.PathText2Video, kling.Text2VideoRequest{ModelName: kling.ModelV2_6, Prompt: "x"})
	still := gradient(640, 640)
	vars := strings.NewReplacer(
		"{img}", b.img(600, 600, "png"),
		"{small}", b.img(200, 400, "png"),
		"{huge}", base64.StdEncoding.EncodeToString(pngHeader(70000, 70000)),
		"{video}", faceVideo,
		"{video2s}", b.host("2s.mp4", mp4Of(t, still, 2, 640)),
		"{video12s}", b.host("12s.mp4", mp4Of(t, still, 12, 640)),
		"{video31s}", b.host("31s.mp4", mp4Of(t, still, 31, 640)),
		"{video61s}", b.host("61s.mp4", mp4Of(t, still, 61, 640)),
		"{video1s}", b.host("1s.mp4", mp4Of(t, still, 1, 640)),
		"{wide}", b.host("wide.mp4", mp4Of(t, gradient(640, 360), 4, 640)),
		"{tiny}", b.host("tiny.mp4", mp4Of(t, gradient(320, 320), 4, 320)),
		"{bigvideo}", b.claim("big.mp4", 101<<20),
		"{session}", sess.SessionID,
		"{wav}", b.host("3s.wav", wav(3, 8000, 1)),
		"{wav1s}", b.host("1s.wav", wav(1, 8000, 1)),
		"{wav61s}", b.host("61s.wav", wav(61, 8000, 1)),
		"{bigwav}", b.claim("big.wav", 5<<20+1),
		"{v26}", v26.TaskResult.Videos[0].ID,
	)
	return &ruleFixtures{bundle: b, vars: vars}
}

// ruleCase is one request Kling refuses with 1201 and a message naming the
// broken rule.
type ruleCase struct {
	name, path, body, wantMsg string
}

func (f *ruleFixtures) run(t *testing.T, tests []ruleCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body := f.vars.Replace(tt.body)
			var err error
			if tt.path == kling.PathIdentifyFace {
				err = f.client.Call(context.Background(), tt.path, json.RawMessage(body), nil)
			} else {
				_, err = f.client.Create(context.Background(), tt.path, json.RawMessage(body))
			}
			var apiErr *kling.APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("err = %v, want *kling.APIError", err)
			}
			if apiErr.Code != 1201 || apiErr.HTTPStatus != 400 {
				t.Errorf("code %d status %d, want 1201/400 (%s)", apiErr.Code, apiErr.HTTPStatus, apiErr.Message)
			}
			if !strings.Contains(apiErr.Message, tt.wantMsg) {
				t.Errorf("message %q lacks %q", apiErr.Message, tt.wantMsg)
			}
		})
	}
}

func TestSandbox_Rules(t *testing.T) {
	t.Parallel()
	f := setupRules(t)
	long := strings.Repeat("a", 2501)
	const (
		gen = kling.PathImageGenerations
		t2v = kling.PathText2Video
		i2v = kling.PathImage2Video
		m2v = kling.PathMultiImage2Video
		idf = kling.PathIdentifyFace
		ls  = kling.PathAdvancedLipSync
		mc  = kling.PathMotionControl
		ext = kling.PathVideoExtend
	)
	// lip is a valid lip-sync body with face_choose entry fields replaced.
	lip := func(fields string) string {
		return `{"session_id":"{session}","face_choose":[{` + fields + `}]}`
	}
	const okFace = `"face_id":"0","sound_file":"{wav}","sound_start_time":0,"sound_end_time":2000,"sound_insert_time":0`
	f.run(t, []ruleCase{
		{"GenModel", gen, `{"prompt":"x","model_name":"kling-v2-6"}`, "model_name must be one of kling-v1, kling-v1-5"},
		{"GenPromptMissing", gen, `{"negative_prompt":"x"}`, "prompt is required"},
		{"GenPromptTooLong", gen, `{"prompt":"` + long + `"}`, "at most 2500 characters"},
		{"GenNegativeTooLong", gen, `{"prompt":"x","negative_prompt":"` + long + `"}`, "negative_prompt must be at most 2500"},
		{"GenNegativeWithImage", gen, `{"prompt":"x","model_name":"kling-v2-1","image":"{img}","negative_prompt":"blur"}`, "negative_prompt is not supported in image-to-image"},
		{"GenImageTooSmall", gen, `{"prompt":"x","model_name":"kling-v2-1","image":"{small}"}`, "image: image is 200x400 px"},
		{"GenImageDataURL", gen, `{"prompt":"x","image":"data:image/png;base64,AAAA"}`, "without a data: prefix"},
		{"GenReferenceEnum", gen, `{"prompt":"x","model_name":"kling-v1-5","image":"{img}","image_reference":"body"}`, "image_reference must be one of subject, face"},
		{"GenReferenceModel", gen, `{"prompt":"x","model_name":"kling-v2-1","image":"{img}","image_reference":"subject"}`, "image_reference is only supported by kling-v1-5"},
		{"GenReferenceRequiredV15", gen, `{"prompt":"x","model_name":"kling-v1-5","image":"{img}"}`, "image_reference is required for kling-v1-5"},
		{"GenReferenceWithoutImage", gen, `{"prompt":"x","model_name":"kling-v1-5","image_reference":"face"}`, "image_reference requires image"},
		{"GenImageFidelityModel", gen, `{"prompt":"x","model_name":"kling-v2-1","image":"{img}","image_fidelity":0.5}`, "image_fidelity is not supported by kling-v2-1"},
		{"GenImageFidelityRange", gen, `{"prompt":"x","image":"{img}","image_fidelity":1.5}`, "image_fidelity must be in [0, 1]"},
		{"GenHumanFidelityFace", gen, `{"prompt":"x","model_name":"kling-v1-5","image":"{img}","image_reference":"face","human_fidelity":0.5}`, "human_fidelity is only supported with image_reference subject"},
		{"GenHumanFidelityNoRef", gen, `{"prompt":"x","model_name":"kling-v2-1","image":"{img}","human_fidelity":0.5}`, "human_fidelity is only supported with image_reference subject"},
		{"GenHumanFidelityRange", gen, `{"prompt":"x","model_name":"kling-v1-5","image":"{img}","image_reference":"subject","human_fidelity":-0.1}`, "human_fidelity must be in [0, 1]"},
		{"GenResolutionEnum", gen, `{"prompt":"x","model_name":"kling-v2-1","resolution":"4k"}`, "resolution must be one of 1k, 2k"},
		{"GenResolutionV1", gen, `{"prompt":"x","resolution":"2k"}`, "resolution 2k is not supported by kling-v1"},
		{"GenResolutionV15", gen, `{"prompt":"x","model_name":"kling-v1-5","resolution":"2k"}`, "resolution 2k is not supported by kling-v1-5"},
		{"GenResolutionImageToImage", gen, `{"prompt":"x","model_name":"kling-v2-1","image":"{img}","resolution":"2k"}`, "not supported in image-to-image"},
		{"GenNZero", gen, `{"prompt":"x","n":0}`, "n must be in [1, 9]"},
		{"GenNTen", gen, `{"prompt":"x","n":10}`, "n must be in [1, 9]"},
		{"GenAspectEnum", gen, `{"prompt":"x","aspect_ratio":"auto"}`, "aspect_ratio must be one of"},
		{"GenAspectV1", gen, `{"prompt":"x","aspect_ratio":"21:9"}`, "aspect_ratio 21:9 is not supported by kling-v1"},
		{"GenElementsModel", gen, `{"prompt":"x","element_list":[{"element_id":1}]}`, "element_list is not supported by kling-v1"},
		{"GenUnknownField", gen, `{"prompt":"x","style":"realistic"}`, `unknown parameter "style"`},

		{"T2VModel", t2v, `{"prompt":"x","model_name":"kling-v1-5"}`, "model_name must be one of kling-v1, kling-v1-6"},
		{"T2VPromptMissing", t2v, `{"negative_prompt":"x"}`, "prompt is required"},
		{"T2VPromptTooLong", t2v, `{"prompt":"` + long + `"}`, "at most 2500 characters"},
		{"T2VCfgScaleV26", t2v, `{"prompt":"x","model_name":"kling-v2-6","cfg_scale":0.5}`, "cfg_scale is not supported by kling-v2-6"},
		{"T2VCfgScaleV3", t2v, `{"prompt":"x","model_name":"kling-v3","cfg_scale":0}`, "cfg_scale is not supported by kling-v3"},
		{"T2VCfgScaleRange", t2v, `{"prompt":"x","cfg_scale":1.5}`, "cfg_scale must be in [0, 1]"},
		{"T2VMode", t2v, `{"prompt":"x","mode":"fast"}`, "mode must be one of std, pro"},
		{"T2VAspect", t2v, `{"prompt":"x","aspect_ratio":"4:3"}`, "aspect_ratio must be one of 16:9, 9:16, 1:1"},
		{"T2VDuration", t2v, `{"prompt":"x","duration":"7"}`, `duration must be "5" or "10" for kling-v1`},
		{"T2VDurationNumber", t2v, `{"prompt":"x","duration":5}`, "duration must be of type string"},
		{"T2VDurationV3", t2v, `{"prompt":"x","model_name":"kling-v3","duration":"16"}`, `"3" to "15"`},
		{"T2VSoundModel", t2v, `{"prompt":"x","sound":"off"}`, "sound is not supported by kling-v1"},
		{"T2VSoundEnum", t2v, `{"prompt":"x","model_name":"kling-v2-6","sound":"loud"}`, "sound must be one of on, off"},
		{"T2VSoundNeedsPro", t2v, `{"prompt":"x","model_name":"kling-v2-6","sound":"on","mode":"std"}`, "sound on requires mode pro"},
		{"T2VStyle", t2v, `{"prompt":"x","style":"realistic"}`, `unknown parameter "style"`},
		{"T2VCameraMotion", t2v, `{"prompt":"x","camera_motion":"none"}`, `unknown parameter "camera_motion"`},
		{"T2VCameraModel", t2v, `{"prompt":"x","model_name":"kling-v2-6","camera_control":{"type":"forward_up"}}`, "camera_control is only supported in std mode with 5s duration and kling-v1"},
		{"T2VCameraDuration", t2v, `{"prompt":"x","duration":"10","camera_control":{"type":"forward_up"}}`, "camera_control is only supported in std mode"},
		{"T2VCameraType", t2v, `{"prompt":"x","camera_control":{"type":"orbit"}}`, "camera_control.type must be one of"},
		{"T2VCameraAxes", t2v, `{"prompt":"x","camera_control":{"type":"simple","config":{"zoom":5,"pan":1}}}`, "exactly one non-zero value, got 2"},
		{"T2VCameraRange", t2v, `{"prompt":"x","camera_control":{"type":"simple","config":{"zoom":11}}}`, "must be in [-10, 10]"},
		{"T2VCameraConfigOther", t2v, `{"prompt":"x","camera_control":{"type":"down_back","config":{"zoom":1}}}`, "only allowed with type simple"},

		{"I2VVideoO1", i2v, `{"image":"{img}","model_name":"kling-video-o1"}`, "kling-video-o1 is not supported by image2video"},
		{"I2VModel", i2v, `{"image":"{img}","model_name":"kling-v3-omni"}`, "model_name must be one of"},
		{"I2VImageMissing", i2v, `{"prompt":"x"}`, "image or image_tail is required"},
		{"I2VAspectRatio", i2v, `{"image":"{img}","aspect_ratio":"16:9"}`, `unknown parameter "aspect_ratio"`},
		{"I2VCfgScaleV26", i2v, `{"image":"{img}","model_name":"kling-v2-6","cfg_scale":0.5}`, "cfg_scale is not supported by kling-v2-6"},
		{"I2VCfgScaleV21", i2v, `{"image":"{img}","model_name":"kling-v2-1","cfg_scale":0.5}`, "cfg_scale is not supported by kling-v2-1"},
		{"I2VImageTooSmall", i2v, `{"image":"{small}"}`, "image: image is 200x400 px"},
		{"I2VTailTooSmall", i2v, `{"image":"{img}","image_tail":"{small}"}`, "image_tail: image is 200x400 px"},
		{"I2VTailDataURL", i2v, `{"image_tail":"data:image/png;base64,AAAA"}`, "image_tail must be a URL or raw base64"},
		{"I2VDuration", i2v, `{"image":"{img}","model_name":"kling-v2-6","duration":"3"}`, `duration must be "5" or "10"`},
		{"I2VMode", i2v, `{"image":"{img}","mode":"turbo"}`, "mode must be one of std, pro"},
		{"I2VSoundModel", i2v, `{"image":"{img}","model_name":"kling-v2-5-turbo","sound":"on"}`, "sound is not supported by kling-v2-5-turbo"},
		{"I2VPromptTooLong", i2v, `{"image":"{img}","prompt":"` + long + `"}`, "at most 2500 characters"},
		{"I2VTailAndCamera", i2v, `{"image":"{img}","image_tail":"{img}","camera_control":{"type":"forward_up"}}`, "cannot be used together"},

		{"M2VModel", m2v, `{"prompt":"x","model_name":"kling-v2-6","image_list":[{"image":"{img}"}]}`, "model_name must be one of kling-v1-6"},
		{"M2VNoImages", m2v, `{"prompt":"x","image_list":[]}`, "image_list must hold 1 to 4 images, got 0"},
		{"M2VFiveImages", m2v, `{"prompt":"x","image_list":[{"image":"{img}"},{"image":"{img}"},{"image":"{img}"},{"image":"{img}"},{"image":"{img}"}]}`, "got 5"},
		{"M2VPromptMissing", m2v, `{"image_list":[{"image":"{img}"}]}`, "prompt is required"},
		{"M2VDuration", m2v, `{"prompt":"x","duration":"15","image_list":[{"image":"{img}"}]}`, `duration must be "5" or "10"`},
		{"M2VAspect", m2v, `{"prompt":"x","aspect_ratio":"3:4","image_list":[{"image":"{img}"}]}`, "aspect_ratio must be one of 16:9, 9:16, 1:1"},
		{"M2VMode", m2v, `{"prompt":"x","mode":"max","image_list":[{"image":"{img}"}]}`, "mode must be one of std, pro"},
		{"M2VImageTooSmall", m2v, `{"prompt":"x","image_list":[{"image":"{img}"},{"image":"{small}"}]}`, "image_list[1].image: image is 200x400 px"},
		{"M2VImageURLKey", m2v, `{"prompt":"x","image_list":[{"image_url":"{img}"}]}`, `unknown parameter "image_url"`},

		{"FaceBoth", idf, `{"video_id":"{v26}","video_url":"{video}"}`, "exactly one of video_id and video_url"},
		{"FaceNeither", idf, `{}`, "exactly one of video_id and video_url"},
		{"FaceUnknownID", idf, `{"video_id":"12345-0"}`, `video_id "12345-0" is not a video generated`},
		{"FaceNotVideo", idf, `{"video_url":"{img}"}`, "video must be an mp4 or mov file"},
		{"FaceNotURL", idf, `{"video_url":"AAAA"}`, "must be an http(s) URL"},
		{"FaceTooShort", idf, `{"video_url":"{video1s}"}`, "video is 1 s long; it must be 2–60 s"},
		{"FaceTooLong", idf, `{"video_url":"{video61s}"}`, "video is 61 s long; it must be 2–60 s"},
		{"FaceSides", idf, `{"video_url":"{wide}"}`, "video is 640x352 px; both sides must be 512–2160 px"},
		{"FaceTooBig", idf, `{"video_url":"{bigvideo}"}`, "larger than the 100 MB limit"},
		{"FaceUnknownField", idf, `{"video_url":"{video}","face_index":0}`, `unknown parameter "face_index"`},

		{"LipSessionMissing", ls, `{"face_choose":[{` + okFace + `}]}`, "session_id is required"},
		{"LipSessionUnknown", ls, `{"session_id":"sess-nope","face_choose":[{` + okFace + `}]}`, `session_id "sess-nope" does not exist or has expired`},
		{"LipNoFace", ls, `{"session_id":"{session}","face_choose":[]}`, "face_choose must hold exactly one face, got 0"},
		{"LipTwoFaces", ls, `{"session_id":"{session}","face_choose":[{` + okFace + `},{` + okFace + `}]}`, "got 2"},
		{"LipFaceIDMissing", ls, lip(`"sound_file":"{wav}","sound_start_time":0,"sound_end_time":2000,"sound_insert_time":0`), "face_id is required"},
		{"LipFaceIDUnknown", ls, lip(`"face_id":"3","sound_file":"{wav}","sound_start_time":0,"sound_end_time":2000,"sound_insert_time":0`), `face_id "3" is not a face of session`},
		{"LipBothAudio", ls, lip(okFace + `,"audio_id":"a1"`), "exactly one of audio_id and sound_file"},
		{"LipNoAudio", ls, lip(`"face_id":"0","sound_start_time":0,"sound_end_time":2000,"sound_insert_time":0`), "exactly one of audio_id and sound_file"},
		{"LipAudioID", ls, lip(`"face_id":"0","audio_id":"tts-1","sound_start_time":0,"sound_end_time":2000,"sound_insert_time":0`), `audio_id "tts-1" does not exist`},
		{"LipSoundNotAudio", ls, lip(`"face_id":"0","sound_file":"{img}","sound_start_time":0,"sound_end_time":2000,"sound_insert_time":0`), "audio must be an mp3, wav, m4a or aac file"},
		{"LipSoundTooBig", ls, lip(`"face_id":"0","sound_file":"{bigwav}","sound_start_time":0,"sound_end_time":2000,"sound_insert_time":0`), "larger than the 5 MB limit"},
		{"LipSoundTooShort", ls, lip(`"face_id":"0","sound_file":"{wav1s}","sound_start_time":0,"sound_end_time":2000,"sound_insert_time":0`), "audio is 1 s long; it must be 2–60 s"},
		{"LipSoundTooLong", ls, lip(`"face_id":"0","sound_file":"{wav61s}","sound_start_time":0,"sound_end_time":2000,"sound_insert_time":0`), "audio is 61 s long"},
		{"LipSoundDataURL", ls, lip(`"face_id":"0","sound_file":"data:audio/wav;base64,AAAA","sound_start_time":0,"sound_end_time":2000,"sound_insert_time":0`), "without a data: prefix"},
		{"LipStartMissing", ls, lip(`"face_id":"0","sound_file":"{wav}","sound_end_time":2000,"sound_insert_time":0`), "sound_start_time is required"},
		{"LipEndMissing", ls, lip(`"face_id":"0","sound_file":"{wav}","sound_start_time":0,"sound_insert_time":0`), "sound_end_time is required"},
		{"LipInsertMissing", ls, lip(`"face_id":"0","sound_file":"{wav}","sound_start_time":0,"sound_end_time":2000`), "sound_insert_time is required"},
		{"LipEndBeforeStart", ls, lip(`"face_id":"0","sound_file":"{wav}","sound_start_time":2500,"sound_end_time":2000,"sound_insert_time":0`), "sound_end_time must be after sound_start_time"},
		{"LipClipTooShort", ls, lip(`"face_id":"0","sound_file":"{wav}","sound_start_time":500,"sound_end_time":2000,"sound_insert_time":0`), "at least 2000 ms, got 1500 ms"},
		{"LipEndPastAudio", ls, lip(`"face_id":"0","sound_file":"{wav}","sound_start_time":0,"sound_end_time":3500,"sound_insert_time":0`), "past the end of the audio (3000 ms)"},
		{"LipInsertNegative", ls, lip(`"face_id":"0","sound_file":"{wav}","sound_start_time":0,"sound_end_time":2000,"sound_insert_time":-1`), "sound_insert_time must be >= 0"},
		{"LipInsertPastVideo", ls, lip(`"face_id":"0","sound_file":"{wav}","sound_start_time":0,"sound_end_time":3000,"sound_insert_time":2000`), "must stay inside the video (4000 ms)"},
		{"LipVolume", ls, lip(okFace + `,"sound_volume":2.5`), "sound_volume must be in [0, 2]"},
		{"LipOriginalVolume", ls, lip(okFace + `,"original_audio_volume":-1`), "original_audio_volume must be in [0, 2]"},
		{"LipModelName", ls, `{"session_id":"{session}","model_name":"kling-v2-master","face_choose":[{` + okFace + `}]}`, `unknown parameter "model_name"`},
		{"LipMode", ls, `{"session_id":"{session}","mode":"audio2video","face_choose":[{` + okFace + `}]}`, `unknown parameter "mode"`},
		{"LipFaceIndex", ls, lip(okFace + `,"face_index":0`), `unknown parameter "face_index"`},

		{"MCModel", mc, `{"model_name":"kling-v2-1","image_url":"{img}","video_url":"{video}","character_orientation":"image","mode":"pro"}`, "model_name must be one of kling-v2-6, kling-v3"},
		{"MCImageMissing", mc, `{"video_url":"{video}","character_orientation":"image","mode":"pro"}`, "image_url is required"},
		{"MCImageKey", mc, `{"image":"{img}","image_url":"{img}","video_url":"{video}","character_orientation":"image","mode":"pro"}`, `unknown parameter "image"`},
		{"MCImageTooSmall", mc, `{"image_url":"{small}","video_url":"{video}","character_orientation":"image","mode":"pro"}`, "image_url: image is 200x400 px"},
		{"MCImageTooLarge", mc, `{"image_url":"{huge}","video_url":"{video}","character_orientation":"image","mode":"pro"}`, "both sides must be at most 65536 px"},
		{"MCVideoMissing", mc, `{"image_url":"{img}","character_orientation":"image","mode":"pro"}`, "video_url is required"},
		{"MCVideoNotVideo", mc, `{"image_url":"{img}","video_url":"{img}","character_orientation":"image","mode":"pro"}`, "video must be an mp4 or mov file"},
		{"MCVideoTooBig", mc, `{"image_url":"{img}","video_url":"{bigvideo}","character_orientation":"image","mode":"pro"}`, "larger than the 100 MB limit"},
		{"MCVideoTooShort", mc, `{"image_url":"{img}","video_url":"{video2s}","character_orientation":"video","mode":"pro"}`, "video is 2 s long; it must be 3–30 s"},
		{"MCImageOrientation12s", mc, `{"image_url":"{img}","video_url":"{video12s}","character_orientation":"image","mode":"pro"}`, "video is 12 s long; it must be 3–10 s"},
		{"MCVideoOrientation31s", mc, `{"image_url":"{img}","video_url":"{video31s}","character_orientation":"video","mode":"pro"}`, "video is 31 s long; it must be 3–30 s"},
		{"MCVideoSides", mc, `{"image_url":"{img}","video_url":"{tiny}","character_orientation":"image","mode":"pro"}`, "video is 320x320 px; both sides must be 340–3850 px"},
		{"MCOrientationMissing", mc, `{"image_url":"{img}","video_url":"{video}","mode":"pro"}`, "character_orientation is required"},
		{"MCOrientationEnum", mc, `{"image_url":"{img}","video_url":"{video}","character_orientation":"left","mode":"pro"}`, "character_orientation must be one of image, video"},
		{"MCModeMissing", mc, `{"image_url":"{img}","video_url":"{video}","character_orientation":"image"}`, "mode is required"},
		{"MCModeEnum", mc, `{"image_url":"{img}","video_url":"{video}","character_orientation":"image","mode":"fast"}`, "mode must be one of std, pro"},
		{"MCKeepSound", mc, `{"image_url":"{img}","video_url":"{video}","character_orientation":"image","mode":"pro","keep_original_sound":"true"}`, "keep_original_sound must be one of yes, no"},
		{"MCDuration", mc, `{"image_url":"{img}","video_url":"{video}","character_orientation":"image","mode":"pro","duration":"5"}`, `unknown parameter "duration"`},
		{"MCAspect", mc, `{"image_url":"{img}","video_url":"{video}","character_orientation":"image","mode":"pro","aspect_ratio":"16:9"}`, `unknown parameter "aspect_ratio"`},
		{"MCPromptTooLong", mc, `{"image_url":"{img}","video_url":"{video}","character_orientation":"image","mode":"pro","prompt":"` + long + `"}`, "at most 2500 characters"},
		{"MCElementsModel", mc, `{"image_url":"{img}","video_url":"{video}","character_orientation":"image","mode":"pro","element_list":[{"element_id":1}]}`, "element_list is not supported by kling-v2-6"},

		{"ExtVideoMissing", ext, `{"prompt":"x"}`, "video_id is required"},
		{"ExtUnknownVideo", ext, `{"video_id":"999-0"}`, `video_id "999-0" is not a video generated`},
		{"ExtModel", ext, `{"video_id":"{v26}"}`, "cannot be extended: made by kling-v2-6"},
		{"ExtDirection", ext, `{"video_id":"{v26}","extend_direction":"end"}`, `unknown parameter "extend_direction"`},
		{"ExtCfgScale", ext, `{"video_id":"{v26}","cfg_scale":1.5}`, "cfg_scale must be in [0, 1]"},
		{"ExtPromptTooLong", ext, `{"video_id":"{v26}","prompt":"` + long + `"}`, "at most 2500 characters"},
		{"ExtNegativeTooLong", ext, `{"video_id":"{v26}","negative_prompt":"` + long + `"}`, "negative_prompt must be at most 2500"},
		{"ExtCallback", ext, `{"video_id":"{v26}","callback_url":"/relative"}`, "callback_url must be an absolute http(s) URL"},
	})
}

// TestSandbox_RulesAccept guards against validators that refuse too much:
// each body sits at the edge of a rule and must be accepted.
func TestSandbox_RulesAccept(t *testing.T) {
	t.Parallel()
	f := setupRules(t)
	const okFace = `"face_id":"0","sound_file":"{wav}","sound_start_time":1000,"sound_end_time":3000,"sound_insert_time":2000`
	bodies := map[string][]string{
		kling.PathImageGenerations: {
			`{"prompt":"x"}`,
			`{"prompt":"x","model_name":"kling-v2-1","resolution":"2k","n":9,"aspect_ratio":"21:9","negative_prompt":"blur"}`,
			`{"prompt":"x","model_name":"kling-v1","image":"{img}","image_fidelity":0}`,
			`{"prompt":"x","model_name":"kling-v1-5","image":"{img}","image_reference":"subject","image_fidelity":1,"human_fidelity":0}`,
			`{"prompt":"x","model_name":"kling-v1-5","image":"{img}","image_reference":"face"}`,
			`{"prompt":"x","model_name":"kling-v3","element_list":[{"element_id":7}],"watermark_info":{"enabled":true}}`,
		},
		kling.PathText2Video: {
			`{"prompt":"x","model_name":"kling-v1","cfg_scale":0,"camera_control":{"type":"simple","config":{"zoom":-10}}}`,
			`{"prompt":"x","model_name":"kling-v2-6","sound":"on","mode":"pro","duration":"10","aspect_ratio":"1:1"}`,
			`{"prompt":"x","model_name":"kling-v3","duration":"3","sound":"off"}`,
			`{"prompt":"x","model_name":"kling-v2-master","duration":"10","negative_prompt":"blur"}`,
		},
		kling.PathImage2Video: {
			`{"image":"{img}","model_name":"kling-v1-5","cfg_scale":1,"mode":"pro"}`,
			`{"image_tail":"{img}","model_name":"kling-v2-1"}`,
			`{"image":"{img}","model_name":"kling-v3","duration":"15","sound":"on"}`,
			`{"image":"{img}","camera_control":{"type":"left_turn_forward"}}`,
		},
		kling.PathMultiImage2Video: {
			`{"prompt":"x","model_name":"kling-v1-6","image_list":[{"image":"{img}"},{"image":"{img}"},{"image":"{img}"},{"image":"{img}"}],"duration":"10","mode":"pro","aspect_ratio":"9:16"}`,
		},
		kling.PathAdvancedLipSync: {
			`{"session_id":"{session}","face_choose":[{` + okFace + `,"sound_volume":0,"original_audio_volume":2}],"callback_url":"https://cb.example/x"}`,
		},
		kling.PathMotionControl: {
			`{"image_url":"{img}","video_url":"{video12s}","character_orientation":"video","mode":"std"}`,
			`{"model_name":"kling-v3","image_url":"{img}","video_url":"{video}","character_orientation":"image","mode":"pro","keep_original_sound":"no","prompt":"dance","element_list":[{"element_id":1}]}`,
		},
	}
	for path, list := range bodies {
		for _, body := range list {
			body = f.vars.Replace(body)
			if _, err := f.client.Create(context.Background(), path, json.RawMessage(body)); err != nil {
				t.Errorf("%s %s: %v", path, body, err)
			}
		}
	}
	if _, err := f.client.IdentifyFace(context.Background(), kling.IdentifyFaceRequest{VideoID: f.vars.Replace("{v26}")}); err != nil {
		t.Errorf("identify-face by id: %v", err)
	}
}
