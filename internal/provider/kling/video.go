package kling

// Video modes, orientations and switches, spelled as Kling wants them
// (strings, not booleans).
const (
	ModeStd           = "std"
	ModePro           = "pro"
	OrientationImage  = "image"
	OrientationVideo  = "video"
	SoundOn           = "on"
	SoundOff          = "off"
	KeepOriginalSound = "yes"
	DropOriginalSound = "no"
)

// CameraControl moves the camera of a text2video or image2video task.
type CameraControl struct {
	// Type is simple, down_back, forward_up, right_turn_forward or
	// left_turn_forward.
	Type string `json:"type,omitempty"`
	// Config is only for simple, with exactly one non-zero axis.
	Config *CameraConfig `json:"config,omitempty"`
}

// CameraConfig holds the axes of a simple camera move, each in [-10, 10].
type CameraConfig struct {
	Horizontal float64 `json:"horizontal,omitempty"`
	Vertical   float64 `json:"vertical,omitempty"`
	Pan        float64 `json:"pan,omitempty"`
	Tilt       float64 `json:"tilt,omitempty"`
	Roll       float64 `json:"roll,omitempty"`
	Zoom       float64 `json:"zoom,omitempty"`
}

// Text2VideoRequest is the body of POST /v1/videos/text2video. There is no
// style or camera_motion field (contract decision #3).
type Text2VideoRequest struct {
	ModelName      string `json:"model_name,omitempty"`
	Prompt         string `json:"prompt,omitempty"`
	NegativePrompt string `json:"negative_prompt,omitempty"`
	// CfgScale is in [0,1]; send it only when TakesCfgScale(ModelName).
	CfgScale    *float64 `json:"cfg_scale,omitempty"`
	Mode        string   `json:"mode,omitempty"`
	AspectRatio string   `json:"aspect_ratio,omitempty"`
	// Duration is seconds as a string: "5" or "10" ("3"–"15" on kling-v3).
	Duration       string         `json:"duration,omitempty"`
	Sound          string         `json:"sound,omitempty"`
	CameraControl  *CameraControl `json:"camera_control,omitempty"`
	WatermarkInfo  *WatermarkInfo `json:"watermark_info,omitempty"`
	CallbackURL    string         `json:"callback_url,omitempty"`
	ExternalTaskID string         `json:"external_task_id,omitempty"`
}

// Image2VideoRequest is the body of POST /v1/videos/image2video. It has no
// aspect_ratio: the image decides. kling-video-o1 is not accepted here.
type Image2VideoRequest struct {
	ModelName string `json:"model_name,omitempty"`
	// Image and ImageTail are the first and last frames (URL or raw
	// base64); at least one is required.
	Image          string         `json:"image,omitempty"`
	ImageTail      string         `json:"image_tail,omitempty"`
	Prompt         string         `json:"prompt,omitempty"`
	NegativePrompt string         `json:"negative_prompt,omitempty"`
	CfgScale       *float64       `json:"cfg_scale,omitempty"`
	Mode           string         `json:"mode,omitempty"`
	Duration       string         `json:"duration,omitempty"`
	Sound          string         `json:"sound,omitempty"`
	CameraControl  *CameraControl `json:"camera_control,omitempty"`
	WatermarkInfo  *WatermarkInfo `json:"watermark_info,omitempty"`
	CallbackURL    string         `json:"callback_url,omitempty"`
	ExternalTaskID string         `json:"external_task_id,omitempty"`
}

// MultiImage is one entry of a multi-image2video image_list.
type MultiImage struct {
	Image string `json:"image"`
}

// MultiImage2VideoRequest is the body of POST /v1/videos/multi-image2video:
// 1–4 images and a required prompt. ModelName may only be kling-v1-6, the
// default, so Lepus leaves it empty (contract decision #5).
type MultiImage2VideoRequest struct {
	ModelName      string         `json:"model_name,omitempty"`
	ImageList      []MultiImage   `json:"image_list,omitempty"`
	Prompt         string         `json:"prompt,omitempty"`
	NegativePrompt string         `json:"negative_prompt,omitempty"`
	Mode           string         `json:"mode,omitempty"`
	Duration       string         `json:"duration,omitempty"`
	AspectRatio    string         `json:"aspect_ratio,omitempty"`
	WatermarkInfo  *WatermarkInfo `json:"watermark_info,omitempty"`
	CallbackURL    string         `json:"callback_url,omitempty"`
	ExternalTaskID string         `json:"external_task_id,omitempty"`
}

// MotionControlRequest is the body of POST /v1/videos/motion-control. It has
// no duration (the output follows VideoURL) and no aspect_ratio
// (contract decision #7).
type MotionControlRequest struct {
	ModelName string `json:"model_name,omitempty"`
	// ImageURL is the character (URL or raw base64); note the key.
	ImageURL string `json:"image_url,omitempty"`
	// VideoURL is the motion reference: 3–10 s for OrientationImage, 3–30 s
	// for OrientationVideo.
	VideoURL             string         `json:"video_url,omitempty"`
	CharacterOrientation string         `json:"character_orientation,omitempty"`
	Mode                 string         `json:"mode,omitempty"`
	Prompt               string         `json:"prompt,omitempty"`
	KeepOriginalSound    string         `json:"keep_original_sound,omitempty"`
	ElementList          []Element      `json:"element_list,omitempty"`
	WatermarkInfo        *WatermarkInfo `json:"watermark_info,omitempty"`
	CallbackURL          string         `json:"callback_url,omitempty"`
	ExternalTaskID       string         `json:"external_task_id,omitempty"`
}

// VideoExtendRequest is the body of POST /v1/videos/video-extend. There is
// no direction: Kling always extends the end (contract decision #8).
type VideoExtendRequest struct {
	// VideoID is a Kling video id (Video.ID) made by kling-v1, v1-5 or v1-6.
	VideoID        string         `json:"video_id,omitempty"`
	Prompt         string         `json:"prompt,omitempty"`
	NegativePrompt string         `json:"negative_prompt,omitempty"`
	CfgScale       *float64       `json:"cfg_scale,omitempty"`
	WatermarkInfo  *WatermarkInfo `json:"watermark_info,omitempty"`
	CallbackURL    string         `json:"callback_url,omitempty"`
	ExternalTaskID string         `json:"external_task_id,omitempty"`
}
