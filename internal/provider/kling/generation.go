package kling

// Model names of the generation endpoints. They are defaults; operators may
// configure others.
const (
	ModelV1         = "kling-v1"
	ModelV1_5       = "kling-v1-5"
	ModelV1_6       = "kling-v1-6"
	ModelV2_1       = "kling-v2-1"
	ModelV2Master   = "kling-v2-master"
	ModelV2_1Master = "kling-v2-1-master"
	ModelV2_5Turbo  = "kling-v2-5-turbo"
	ModelV2_6       = "kling-v2-6"
	ModelV3         = "kling-v3"
)

// Image references of images/generations.
const (
	ReferenceSubject = "subject"
	ReferenceFace    = "face"
)

// TakesCfgScale reports whether a text2video/image2video model accepts
// cfg_scale. Kling documents it as unsupported on the v2.x and v3 models, so
// Lepus sends it only to the v1 family (contract decision #4).
func TakesCfgScale(model string) bool {
	switch model {
	case "", ModelV1, ModelV1_5, ModelV1_6: // "" is Kling's default, kling-v1
		return true
	}
	return false
}

// Extendable reports whether video-extend accepts a video made by model:
// only the V1.0, V1.5 and V1.6 models (contract decision #8).
func Extendable(model string) bool {
	switch model {
	case ModelV1, ModelV1_5, ModelV1_6:
		return true
	}
	return false
}

// ImageGenerationRequest is the body of POST /v1/images/generations.
// Every field is omitempty so nothing the caller did not set is sent.
type ImageGenerationRequest struct {
	ModelName string `json:"model_name,omitempty"`
	Prompt    string `json:"prompt,omitempty"`
	// NegativePrompt is refused with Image set (image-to-image).
	NegativePrompt string `json:"negative_prompt,omitempty"`
	// Image is a reference: a URL or raw base64 (no data: prefix).
	Image string `json:"image,omitempty"`
	// ImageReference is ReferenceSubject or ReferenceFace; required by
	// kling-v1-5 with an Image.
	ImageReference string `json:"image_reference,omitempty"`
	// ImageFidelity and HumanFidelity are in [0,1]; pointers because 0 is a
	// real value. HumanFidelity applies only with ReferenceSubject.
	ImageFidelity  *float64       `json:"image_fidelity,omitempty"`
	HumanFidelity  *float64       `json:"human_fidelity,omitempty"`
	Resolution     string         `json:"resolution,omitempty"`
	N              int            `json:"n,omitempty"`
	AspectRatio    string         `json:"aspect_ratio,omitempty"`
	WatermarkInfo  *WatermarkInfo `json:"watermark_info,omitempty"`
	CallbackURL    string         `json:"callback_url,omitempty"`
	ExternalTaskID string         `json:"external_task_id,omitempty"`
}
