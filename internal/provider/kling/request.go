package kling

// Create paths. Each task is queried under the path that created it:
// GET {path}/{id} and the list GET {path}?pageNum=&pageSize=.
const (
	PathImageGenerations = "/v1/images/generations"
	PathMultiImage2Image = "/v1/images/multi-image2image"
	PathOmniImage        = "/v1/images/omni-image"
	PathText2Video       = "/v1/videos/text2video"
	PathImage2Video      = "/v1/videos/image2video"
	PathMultiImage2Video = "/v1/videos/multi-image2video"
	PathVideoExtend      = "/v1/videos/video-extend"
	PathMotionControl    = "/v1/videos/motion-control"
	PathOmniVideo        = "/v1/videos/omni-video"
	// PathIdentifyFace is synchronous: it returns a session, not a task.
	PathIdentifyFace    = "/v1/videos/identify-face"
	PathAdvancedLipSync = "/v1/videos/advanced-lip-sync"
)

// Model names used by the omni endpoints. They are defaults; operators may
// configure others.
const (
	ModelImageO1   = "kling-image-o1"
	ModelVideoO1   = "kling-video-o1"
	ModelV3Omni    = "kling-v3-omni"
	FrameFirst     = "first_frame"
	FrameEnd       = "end_frame"
	ResolutionOneK = "1k"
	ResolutionTwoK = "2k"
)

// WatermarkInfo asks Kling for an additional watermarked result URL.
type WatermarkInfo struct {
	Enabled bool `json:"enabled"`
}

// Element references an entry of the Kling element library.
type Element struct {
	ElementID int64 `json:"element_id"`
}

// OmniImageRequest is the body of POST /v1/images/omni-image. Every field is
// omitempty so nothing the caller did not set is sent: the stored request is
// exactly what the provider saw.
type OmniImageRequest struct {
	ModelName string `json:"model_name,omitempty"`
	// Prompt references inputs as <<<image_1>>>… in image_list order.
	Prompt        string         `json:"prompt,omitempty"`
	ImageList     []OmniImage    `json:"image_list,omitempty"`
	ElementList   []Element      `json:"element_list,omitempty"`
	Resolution    string         `json:"resolution,omitempty"`
	ResultType    string         `json:"result_type,omitempty"`
	N             int            `json:"n,omitempty"`
	SeriesAmount  int            `json:"series_amount,omitempty"`
	AspectRatio   string         `json:"aspect_ratio,omitempty"`
	WatermarkInfo *WatermarkInfo `json:"watermark_info,omitempty"`
	CallbackURL   string         `json:"callback_url,omitempty"`
	// ExternalTaskID must be unique per account; it lets a retry find a task
	// whose create response was lost.
	ExternalTaskID string `json:"external_task_id,omitempty"`
}

// OmniImage is one omni-image input: a URL or raw base64 (no data: prefix).
type OmniImage struct {
	Image string `json:"image"`
}

// OmniVideoRequest is the body of POST /v1/videos/omni-video, the only
// endpoint that takes kling-video-o1.
type OmniVideoRequest struct {
	ModelName   string           `json:"model_name,omitempty"`
	Prompt      string           `json:"prompt,omitempty"`
	ImageList   []OmniVideoImage `json:"image_list,omitempty"`
	ElementList []Element        `json:"element_list,omitempty"`
	VideoList   []OmniVideoRef   `json:"video_list,omitempty"`
	Mode        string           `json:"mode,omitempty"`
	AspectRatio string           `json:"aspect_ratio,omitempty"`
	// Duration is seconds as a string, e.g. "5".
	Duration       string         `json:"duration,omitempty"`
	Sound          string         `json:"sound,omitempty"`
	WatermarkInfo  *WatermarkInfo `json:"watermark_info,omitempty"`
	CallbackURL    string         `json:"callback_url,omitempty"`
	ExternalTaskID string         `json:"external_task_id,omitempty"`
}

// OmniVideoImage is one omni-video image. Note the key is image_url here,
// unlike omni-image; Type is first_frame, end_frame or empty (reference).
type OmniVideoImage struct {
	ImageURL string `json:"image_url"`
	Type     string `json:"type,omitempty"`
}

// OmniVideoRef is the optional reference video of an omni-video task.
type OmniVideoRef struct {
	VideoURL          string `json:"video_url"`
	ReferType         string `json:"refer_type,omitempty"`
	KeepOriginalSound string `json:"keep_original_sound,omitempty"`
}
