package sandbox_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// arkErrorBody is Ark's whole-request error.
type arkErrorBody struct {
	Error *struct {
		Code, Message, Param, Type string
	} `json:"error"`
	Data []json.RawMessage `json:"data"`
}

// arkPost sends body as is, so the rules can be driven with fields the
// typed client cannot send.
func (b *bundle) arkPost(t *testing.T, key, body string) (int, arkErrorBody) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.srv.URL+"/ark/api/v3/images/generations", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out arkErrorBody
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("decode: %v", err)
	}
	return resp.StatusCode, out
}

func TestSandbox_ArkRules(t *testing.T) {
	t.Parallel()
	b, _ := arkSetup(t, nil)
	refs := func(n int) string {
		list := make([]string, n)
		for i := range list {
			list[i] = `"` + b.img(300+i, 400, "jpg") + `"`
		}
		return "[" + strings.Join(list, ",") + "]"
	}
	png := base64.StdEncoding.EncodeToString(encodeTestImage(64, 64, "png"))
	vars := strings.NewReplacer(
		"{M}", `"model":"doubao-seedream-4-0-250828","prompt":"a portrait"`,
		"{img}", b.img(300, 400, "jpg"),
		"{png}", png,
		"{refs10}", refs(10),
		"{refs11}", refs(11),
		"{refs2}", refs(2),
	)
	tests := []struct {
		name, body string
		status     int
		code       string // "" for success
		images     int    // on success
	}{
		{"OK", `{{M}}`, 200, "", 1},
		{"EndpointID", `{"model":"ep-20250901123456-abcde","prompt":"p"}`, 200, "", 1},
		{"NoModel", `{"prompt":"p"}`, 400, "MissingParameter", 0},
		{"UnknownModel", `{"model":"doubao-seedream-3-0-t2i-250415","prompt":"p"}`, 404, "InvalidEndpointOrModel.NotFound", 0},
		{"BareEp", `{"model":"ep-","prompt":"p"}`, 404, "InvalidEndpointOrModel.NotFound", 0},
		{"NoPrompt", `{"model":"doubao-seedream-4-0-250828"}`, 400, "MissingParameter", 0},
		{"BlankPrompt", `{"model":"doubao-seedream-4-0-250828","prompt":"  "}`, 400, "MissingParameter", 0},
		{"UnknownField", `{{M},"n":4}`, 400, "InvalidParameter", 0},
		{"UnknownNestedField", `{{M},"sequential_image_generation_options":{"max_images":4,"min_images":1}}`, 400, "InvalidParameter", 0},
		{"Seed", `{{M},"seed":42}`, 400, "InvalidParameter", 0},
		{"GuidanceScale", `{{M},"guidance_scale":2.5}`, 400, "InvalidParameter", 0},
		{"NotJSON", `{"model":`, 400, "InvalidParameter", 0},
		{"WrongType", `{{M},"watermark":"no"}`, 400, "InvalidParameter", 0},

		{"ImageString", `{{M},"image":"{img}"}`, 200, "", 1},
		{"ImageTen", `{{M},"image":{refs10},"sequential_image_generation":"auto"}`, 200, "", 4},
		{"ImageEleven", `{{M},"image":{refs11}}`, 400, "InvalidParameter", 0},
		{"ImageNumber", `{{M},"image":5}`, 400, "InvalidParameter", 0},
		{"ImageEmptyString", `{{M},"image":[""]}`, 400, "InvalidParameter", 0},
		{"ImageRawBase64", `{{M},"image":"{png}"}`, 400, "InvalidParameter", 0},
		{"DataURI", `{{M},"image":"data:image/png;base64,{png}"}`, 200, "", 1},
		{"DataURIUppercase", `{{M},"image":"data:image/PNG;base64,{png}"}`, 400, "InvalidParameter", 0},
		{"DataURIGif", `{{M},"image":"data:image/gif;base64,{png}"}`, 400, "InvalidParameter", 0},
		{"DataURINotBase64", `{{M},"image":"data:image/png;base64,!!!"}`, 400, "InvalidParameter", 0},
		{"DataURINotImage", `{{M},"image":"data:image/png;base64,aGVsbG8gd29ybGQ="}`, 400, "InvalidParameter", 0},
		{"SideFifteen", `{{M},"image":"` + b.img(15, 40, "png") + `"}`, 200, "", 1},
		{"SideFourteen", `{{M},"image":"` + b.img(14, 40, "png") + `"}`, 400, "InvalidParameter", 0},
		{"AspectThree", `{{M},"image":"` + b.img(100, 300, "png") + `"}`, 200, "", 1},
		{"AspectOverThree", `{{M},"image":"` + b.img(100, 301, "png") + `"}`, 400, "InvalidParameter", 0},
		{"Over10MB", `{{M},"image":"` + b.images.URL + `/big.png"}`, 400, "InvalidParameter", 0},
		{"NotFound", `{{M},"image":"` + b.images.URL + `/missing.png"}`, 400, "InvalidParameter", 0},

		{"Size1K", `{{M},"size":"1K"}`, 200, "", 1},
		{"Size4K", `{{M},"size":"4K"}`, 200, "", 1},
		{"SizeLowercase", `{{M},"size":"2k"}`, 400, "InvalidParameter", 0},
		{"Size3K", `{{M},"size":"3K"}`, 400, "InvalidParameter", 0},
		{"SizeMinPixels", `{{M},"size":"1280x720"}`, 200, "", 1},
		{"SizeUnderMin", `{{M},"size":"1279x720"}`, 400, "InvalidParameter", 0},
		{"SizeMaxPixels", `{{M},"size":"4096x4096"}`, 200, "", 1},
		{"SizeOverMax", `{{M},"size":"4097x4096"}`, 400, "InvalidParameter", 0},
		{"SizeRatio16", `{{M},"size":"4800x300"}`, 200, "", 1},
		{"SizeRatioOver16", `{{M},"size":"5120x300"}`, 400, "InvalidParameter", 0},
		{"SizeWords", `{{M},"size":"large"}`, 400, "InvalidParameter", 0},

		{"SequentialBad", `{{M},"sequential_image_generation":"on"}`, 400, "InvalidParameter", 0},
		{"MaxImagesZero", `{{M},"sequential_image_generation":"auto","sequential_image_generation_options":{"max_images":0}}`, 400, "InvalidParameter", 0},
		{"MaxImages16", `{{M},"sequential_image_generation":"auto","sequential_image_generation_options":{"max_images":16}}`, 400, "InvalidParameter", 0},
		{"MaxImages15TextOnly", `{{M},"sequential_image_generation":"auto","sequential_image_generation_options":{"max_images":15}}`, 200, "", 4},
		{"MaxImages14OneRef", `{{M},"image":"{img}","sequential_image_generation":"auto","sequential_image_generation_options":{"max_images":14}}`, 200, "", 4},
		{"MaxImages15OneRef", `{{M},"image":"{img}","sequential_image_generation":"auto","sequential_image_generation_options":{"max_images":15}}`, 400, "InvalidParameter", 0},
		{"MaxImages13TwoRefs", `{{M},"image":{refs2},"sequential_image_generation":"auto","sequential_image_generation_options":{"max_images":13}}`, 200, "", 4},
		{"MaxImages14TwoRefs", `{{M},"image":{refs2},"sequential_image_generation":"auto","sequential_image_generation_options":{"max_images":14}}`, 400, "InvalidParameter", 0},
		{"MaxImages6TenRefs", `{{M},"image":{refs10},"sequential_image_generation":"auto","sequential_image_generation_options":{"max_images":6}}`, 400, "InvalidParameter", 0},
		{"MaxImagesDisabledIgnored", `{{M},"image":"{img}","sequential_image_generation":"disabled","sequential_image_generation_options":{"max_images":15}}`, 200, "", 1},

		{"ResponseFormatB64", `{{M},"response_format":"b64_json"}`, 200, "", 1},
		{"ResponseFormatBad", `{{M},"response_format":"png"}`, 400, "InvalidParameter", 0},
		{"OptimizePromptFast", `{{M},"optimize_prompt_options":{"mode":"fast"}}`, 200, "", 1},
		{"OptimizePromptBad", `{{M},"optimize_prompt_options":{"mode":"turbo"}}`, 400, "InvalidParameter", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			status, out := b.arkPost(t, arkKey, vars.Replace(tt.body))
			if status != tt.status {
				t.Fatalf("status %d (%+v), want %d", status, out.Error, tt.status)
			}
			if tt.code == "" {
				if out.Error != nil || len(out.Data) != tt.images {
					t.Errorf("answer: error %+v, %d images; want %d", out.Error, len(out.Data), tt.images)
				}
				return
			}
			e := out.Error
			if e == nil || e.Code != tt.code || e.Type == "" || !strings.Contains(e.Message, "Request id: ") || len(out.Data) != 0 {
				t.Errorf("error = %+v, want code %s", e, tt.code)
			}
		})
	}
}
