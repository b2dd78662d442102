package sandbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/lepus-ai/lepus/internal/provider/kling"
)

func TestSandbox_Validation(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	long := strings.Repeat("a", 2501)
	img := b.img(600, 600, "png")
	tests := []struct {
		name     string
		path     string
		body     string // %[1]s is a valid image URL
		wantCode int
		wantMsg  string
	}{
		{"UnknownField", kling.PathOmniImage, `{"prompt":"x","style":"realistic"}`, 1201, `unknown parameter "style"`},
		{"NestedUnknownField", kling.PathOmniImage, `{"prompt":"x","image_list":[{"image_url":"%[1]s"}]}`, 1201, `unknown parameter "image_url"`},
		{"WrongType", kling.PathOmniImage, `{"prompt":"x","n":"2"}`, 1201, "n must be of type int"},
		{"PromptMissing", kling.PathOmniImage, `{"image_list":[{"image":"%[1]s"}]}`, 1201, "prompt is required"},
		{"PromptTooLong", kling.PathOmniImage, `{"prompt":"` + long + `"}`, 1201, "at most 2500 characters"},
		{"ModelOmniImage", kling.PathOmniImage, `{"prompt":"x","model_name":"kling-v2-1"}`, 1201, "model_name must be one of kling-image-o1, kling-v3-omni"},
		{"Resolution", kling.PathOmniImage, `{"prompt":"x","resolution":"8k"}`, 1201, "resolution must be one of"},
		{"AspectRatio", kling.PathOmniImage, `{"prompt":"x","aspect_ratio":"5:4"}`, 1201, "aspect_ratio must be one of"},
		{"NZero", kling.PathOmniImage, `{"prompt":"x","n":0}`, 1201, "n must be in [1, 9]"},
		{"NTen", kling.PathOmniImage, `{"prompt":"x","n":10}`, 1201, "n must be in [1, 9]"},
		{"RefOutOfRange", kling.PathOmniImage, `{"prompt":"<<<image_1>>> and <<<image_2>>>","image_list":[{"image":"%[1]s"}]}`, 1201, "<<<image_2>>>"},
		{"TooManyInputs", kling.PathOmniImage, `{"prompt":"x","image_list":[` + strings.Repeat(`{"image":"%[1]s"},`, 8) + `{"image":"%[1]s"}],"element_list":[{"element_id":1},{"element_id":2}]}`, 1201, "at most 10 entries"},
		{"EmptyImage", kling.PathOmniImage, `{"prompt":"x","image_list":[{"image":""}]}`, 1201, "image_list[0].image must not be empty"},
		{"DataURL", kling.PathOmniImage, `{"prompt":"x","image_list":[{"image":"data:image/png;base64,AAAA"}]}`, 1201, "without a data: prefix"},
		{"ImageTooSmall", kling.PathOmniImage, fmt.Sprintf(`{"prompt":"x","image_list":[{"image":"%s"}]}`, b.img(200, 400, "png")), 1201, "image_list[0].image"},
		{"ImageAspect", kling.PathOmniImage, fmt.Sprintf(`{"prompt":"x","image_list":[{"image":"%s"}]}`, b.img(1200, 300, "jpg")), 1201, "image_list[0].image"},
		{"ImageOver10MB", kling.PathOmniImage, fmt.Sprintf(`{"prompt":"x","image_list":[{"image":"%s/big.png"}]}`, b.images.URL), 1201, "image_list[0].image"},
		{"ImageUnreachable", kling.PathOmniImage, fmt.Sprintf(`{"prompt":"x","image_list":[{"image":"%s/missing"}]}`, b.images.URL), 1201, "http 404"},
		{"ImageNotBase64", kling.PathOmniImage, `{"prompt":"x","image_list":[{"image":"not-an-image!"}]}`, 1201, "not valid base64"},
		{"CallbackURL", kling.PathOmniImage, `{"prompt":"x","callback_url":"ftp://x"}`, 1201, "callback_url"},

		{"VideoImageKey", kling.PathOmniVideo, `{"prompt":"x","image_list":[{"image":"%[1]s","type":"first_frame"}]}`, 1201, `unknown parameter "image"`},
		{"VideoModel", kling.PathOmniVideo, `{"prompt":"x","model_name":"kling-v2-6","aspect_ratio":"16:9"}`, 1201, "model_name must be one of kling-video-o1, kling-v3-omni"},
		{"VideoPromptMissing", kling.PathOmniVideo, `{"aspect_ratio":"16:9"}`, 1201, "prompt is required"},
		{"VideoMode", kling.PathOmniVideo, `{"prompt":"x","mode":"fast","aspect_ratio":"16:9"}`, 1201, "mode must be one of std, pro"},
		{"VideoFrameType", kling.PathOmniVideo, `{"prompt":"x","image_list":[{"image_url":"%[1]s","type":"middle_frame"}]}`, 1201, "image_list[0].type must be one of first_frame, end_frame"},
		{"VideoEndWithoutFirst", kling.PathOmniVideo, `{"prompt":"x","aspect_ratio":"16:9","image_list":[{"image_url":"%[1]s","type":"end_frame"}]}`, 1201, "end_frame requires a first_frame"},
		{"VideoDurationNumber", kling.PathOmniVideo, `{"prompt":"x","aspect_ratio":"16:9","duration":5}`, 1201, "duration must be of type string"},
		{"VideoDurationRangeO1", kling.PathOmniVideo, `{"prompt":"x","aspect_ratio":"16:9","duration":"12"}`, 1201, `"3" to "10"`},
		{"VideoDurationFirstFrameO1", kling.PathOmniVideo, `{"prompt":"x","duration":"7","image_list":[{"image_url":"%[1]s","type":"first_frame"}]}`, 1201, `"5" or "10"`},
		{"VideoAspectRequired", kling.PathOmniVideo, `{"prompt":"x"}`, 1201, "aspect_ratio is required"},
		{"VideoAspectEnum", kling.PathOmniVideo, `{"prompt":"x","aspect_ratio":"4:3"}`, 1201, "aspect_ratio must be one of 16:9, 9:16, 1:1"},
		{"VideoSoundWithVideo", kling.PathOmniVideo, `{"prompt":"x","aspect_ratio":"16:9","sound":"on","video_list":[{"video_url":"https://v/x.mp4","refer_type":"feature"}]}`, 1201, "sound must be off"},
		{"VideoImagesWithVideo", kling.PathOmniVideo, `{"prompt":"x","aspect_ratio":"16:9","video_list":[{"video_url":"https://v/x.mp4"}],"image_list":[` + strings.Repeat(`{"image_url":"%[1]s"},`, 4) + `{"image_url":"%[1]s"}]}`, 1201, "at most 4 entries"},
		{"VideoImageRef", kling.PathOmniVideo, `{"prompt":"<<<image_3>>>","aspect_ratio":"16:9","image_list":[{"image_url":"%[1]s"}]}`, 1201, "<<<image_3>>>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body := tt.body
			if strings.Contains(body, "%[1]s") {
				body = fmt.Sprintf(body, img)
			}
			_, err := b.client.Create(context.Background(), tt.path, json.RawMessage(body))
			var apiErr *kling.APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("err = %v, want *kling.APIError", err)
			}
			if apiErr.Code != tt.wantCode || apiErr.HTTPStatus != 400 {
				t.Errorf("code %d status %d, want %d/400 (%s)", apiErr.Code, apiErr.HTTPStatus, tt.wantCode, apiErr.Message)
			}
			if !strings.Contains(apiErr.Message, tt.wantMsg) {
				t.Errorf("message %q lacks %q", apiErr.Message, tt.wantMsg)
			}
			if kling.Classify(err) != kling.ClassInvalid {
				t.Errorf("class = %v", kling.Classify(err))
			}
		})
	}
}

// TestSandbox_NotJSON sends a broken body, which the client cannot.
func TestSandbox_NotJSON(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	tok, _, err := sandboxToken()
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, b.srv.URL+kling.PathOmniImage, strings.NewReader(`{"prompt":`))
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var env struct{ Code int }
	_ = json.NewDecoder(resp.Body).Decode(&env)
	if resp.StatusCode != 400 || env.Code != 1200 {
		t.Errorf("status %d code %d, want 400/1200", resp.StatusCode, env.Code)
	}
}

// TestSandbox_ValidAccepted guards against a validator that refuses
// everything: each of these must be accepted.
func TestSandbox_ValidAccepted(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	img := b.img(600, 600, "jpg")
	bodies := map[string][]string{
		kling.PathOmniImage: {
			`{"prompt":"x","model_name":"kling-v3-omni","resolution":"4k","aspect_ratio":"auto","n":9}`,
			`{"prompt":"<<<image_1>>> <<<element_1>>>","image_list":[{"image":"%[1]s"}],"element_list":[{"element_id":123}],"watermark_info":{"enabled":true}}`,
			`{"prompt":"x","result_type":"series","series_amount":3}`,
		},
		kling.PathOmniVideo: {
			`{"prompt":"x","aspect_ratio":"9:16","duration":"10","mode":"pro","sound":"off"}`,
			`{"prompt":"x","model_name":"kling-v3-omni","aspect_ratio":"1:1","duration":"15"}`,
			`{"prompt":"<<<image_1>>> to <<<image_2>>>","image_list":[{"image_url":"%[1]s","type":"first_frame"},{"image_url":"%[1]s","type":"end_frame"}]}`,
			`{"prompt":"next shot after <<<video_1>>>","aspect_ratio":"16:9","duration":"3","video_list":[{"video_url":"https://v/x.mp4","refer_type":"feature","keep_original_sound":"no"}]}`,
		},
	}
	for path, list := range bodies {
		for _, body := range list {
			if strings.Contains(body, "%[1]s") {
				body = fmt.Sprintf(body, img)
			}
			if _, err := b.client.Create(context.Background(), path, json.RawMessage(body)); err != nil {
				t.Errorf("%s %s: %v", path, body, err)
			}
		}
	}
}
