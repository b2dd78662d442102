package workflow

import (
	"cmp"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/lepus-ai/lepus/internal/lepus"
	"github.com/lepus-ai/lepus/internal/provider/ark"
	"github.com/lepus-ai/lepus/internal/provider/kling"
)

// AvatarPortraitsRequest is the body of POST /v2/avatars/confirm-portraits (workflows.md §11).
type AvatarPortraitsRequest struct {
	SourceImageURLs []string `json:"source_image_urls" minItems:"1" maxItems:"10" doc:"One to ten photos of the person."`
	Engine          string   `json:"engine,omitempty" enum:"doubao,kling" default:"doubao" doc:"doubao: Seedream 4.0, falling back to Kling; kling: Kling omni-image."`
	AvatarID        string   `json:"avatar_id,omitempty" maxLength:"64" doc:"Make new portraits for an existing avatar."`
}

// Normalize applies the defaults of workflows.md §11.
func (r *AvatarPortraitsRequest) Normalize() error {
	r.Engine = cmp.Or(r.Engine, "doubao")
	if len(r.SourceImageURLs) == 0 || len(r.SourceImageURLs) > 10 {
		return lepus.FieldErrorf("body.source_image_urls", "has %d photos; give 1 to 10", len(r.SourceImageURLs))
	}
	return oneOf("body.engine", r.Engine, "doubao", "kling")
}

// Images lists the source photos.
func (r *AvatarPortraitsRequest) Images() []ImageInput {
	in := make([]ImageInput, len(r.SourceImageURLs))
	for i := range r.SourceImageURLs {
		in[i] = ImageInput{Field: fmt.Sprintf("body.source_image_urls[%d]", i), URL: &r.SourceImageURLs[i]}
	}
	return in
}

// Stage names of the confirm-portraits task.
const (
	StageSeedream = "seedream"
	StageKling    = "kling"
	ProviderArk   = "ark"
)

// SeedreamPrompt is the Chinese portrait prompt of workflows.md §11; {refs}
// is 图1、图2 … built from the photos.
const SeedreamPrompt = `[1] 摄影风格与媒介（最高权重）
  纪实风格35mm胶片摄影，参考{refs}中的人物。
  RAW底片，柯达Portra 400胶片质感。85mm人像镜头，f/2.8光圈。
  未经修图，无磨皮无美颜，微妙胶片颗粒感，真实色彩还原。

[2] 主体身份（严格还原）
  严格保持参考照片中所有面部特征：脸型、眼睛、鼻子、嘴唇、眉毛、
  肤色、雀斑、痣、发型、发色。淡妆或素颜，自然睫毛，真实眉形。

[3] 真实感引擎（反塑料核心 — 必须）
  可见毛孔和细纹，侧光下可见面部绒毛（桃子绒毛），
  T区皮肤油光和光泽（非哑光），鼻翼眼周微泛红。
  发际线自然碎发和飞丝，发丝半透明光泽。

[4] 光影与构图
  45度侧面主光 + 柔和补光，T区高光，发丝轮廓光。
  正面居中头肩构图，生成4张，每张角度略有不同。

[5] 背景：纯白高调影棚，浅景深，自然阴影。`

// KlingPortraitPrompt is the English portrait prompt of workflows.md §11;
// {refs} is <<<image_1>>> and <<<image_2>>> ….
const KlingPortraitPrompt = `[1] Photography Style & Medium (highest weight)
  Candid 35mm film photograph of the person in {refs}.
  RAW photo, Kodak Portra 400 film stock. 85mm portrait lens, f/2.8.
  Unedited, no retouching, no airbrushing, subtle film grain.

[2] Subject & Identity
  Maintain EXACT identity from reference: face shape, eye shape,
  nose, lips, eyebrows, skin tone, freckles, moles, hair.
  Minimal makeup, natural lash line, hydrated lips.

[3] Realism Engine (MANDATORY — anti-plastic core)
  Visible pores and fine lines, natural vellus hair (peach fuzz)
  under side light, subtle skin oil/sheen on T-zone (not matte),
  slight redness around nose and under eyes.
  Natural flyaways and stray hairs, individual strands catching light.

[4] Lighting & Composition
  Side key light 45°, soft fill, specular highlights on T-zone,
  rim light for hair separation. Centered head & shoulders, gentle smile.

[5] Background: Solid white, high-key studio, shallow DOF.`

// seedreamRefs is 图1、图2 … for n photos.
func seedreamRefs(n int) string {
	refs := make([]string, n)
	for i := range refs {
		refs[i] = fmt.Sprintf("图%d", i+1)
	}
	return strings.Join(refs, "、")
}

// klingRefs is <<<image_1>>> and <<<image_2>>> … for n photos.
func klingRefs(n int) string {
	refs := make([]string, n)
	for i := range refs {
		refs[i] = fmt.Sprintf("<<<image_%d>>>", i+1)
	}
	return strings.Join(refs, " and ")
}

func avatarPortraits() *Definition {
	return &Definition{
		Type:            "avatar_confirm_portraits",
		Policy:          Policy{MaxRetries: 3, PollInterval: 5 * time.Second, MaxPolls: 60},
		NewRequest:      func() Request { return &AvatarPortraitsRequest{} },
		KeepProviderURL: true,
		Plan: func(req Request) []lepus.Stage {
			kl := klingStage(StageKling, kling.PathOmniImage, PoolKlingImage, 4)
			if req.(*AvatarPortraitsRequest).Engine == "kling" {
				return []lepus.Stage{kl}
			}
			sd := lepus.Stage{Name: StageSeedream, Phase: lepus.PhaseSubmit, Provider: ProviderArk, Sync: true, Optional: true}
			return []lepus.Stage{sd, kl}
		},
		Build: func(t *lepus.Task, st *lepus.Stage, env Env) (any, error) {
			r, err := decodeInput[AvatarPortraitsRequest](t)
			if err != nil {
				return nil, err
			}
			n := len(r.SourceImageURLs)
			if st.Name == StageSeedream {
				return ark.ImagesRequest{
					Model: cmp.Or(env.SeedreamModel, ark.ModelSeedream40), Prompt: strings.ReplaceAll(SeedreamPrompt, "{refs}", seedreamRefs(n)),
					Image: r.SourceImageURLs, Size: "2K", SequentialImageGeneration: "auto",
					SequentialImageGenerationOptions: &ark.SequentialOptions{MaxImages: 4}, Stream: true, Watermark: ptr(false),
				}, nil
			}
			if sd := t.StageByName(StageSeedream); sd != nil {
				if sd.Phase != lepus.PhaseFailed {
					if n := len(sd.Results); n < 4 {
						t.AddNote(fmt.Sprintf("Seedream returned %d of the 4 portraits asked for; all %d are kept", n, n))
					}
					return nil, ErrSkip // Seedream made the portraits
				}
				t.AddNote("Seedream failed (" + sd.Error.Message + "); the portraits come from Kling")
			}
			b := kling.OmniImageRequest{ModelName: kling.ModelImageO1, Prompt: strings.ReplaceAll(KlingPortraitPrompt, "{refs}", klingRefs(n)),
				N: 4, Resolution: "2k", AspectRatio: "3:4", CallbackURL: env.CallbackURL, ExternalTaskID: st.ExternalID}
			for _, u := range r.SourceImageURLs {
				b.ImageList = append(b.ImageList, kling.OmniImage{Image: u})
			}
			return b, nil
		},
		// avatars/{user_id}/{task_id}_confirm_{i}.png (workflows.md storage paths).
		StorageKey: func(t *lepus.Task, st *lepus.Stage, i int, _ string) string {
			return path.Join("avatars", SafeSegment(t.UserID), fmt.Sprintf("%s_confirm_%d.png", t.ID, i))
		},
		Cost:  func(req Request, costs map[string]int) int { return costs["avatar_confirm_portraits"] },
		Costs: map[string]int{"avatar_confirm_portraits": 10}, // four candidate portraits
	}
}

// AngleKeys are the avatar reference angles, in order.
var AngleKeys = []string{"three_quarter_left", "profile_right", "slight_above"}

// AnglePrompts are the angle prompts of workflows.md §12.
var AnglePrompts = map[string]string{
	"three_quarter_left": "Same person, three-quarter view turned slightly to the left, natural soft lighting, neutral background, photorealistic, 85mm portrait lens, shallow depth of field, visible skin texture and pores, no retouching",
	"profile_right":      "Same person, right profile view showing side of face, natural window light, neutral background, photorealistic, 85mm portrait lens, visible skin texture, natural hair detail, no retouching",
	"slight_above":       "Same person, slightly elevated camera angle looking down, gentle overhead natural lighting, neutral background, photorealistic, 50mm lens, visible skin pores, natural expression, no retouching",
}

// AvatarAnglesRequest starts reference angles for a confirmed portrait; the
// application makes it when a portrait is confirmed or an angle redone.
type AvatarAnglesRequest struct {
	AvatarID    string   `json:"avatar_id"`
	PortraitURL string   `json:"portrait_url"`
	Angles      []string `json:"angles"`
}

// Normalize checks the angle keys.
func (r *AvatarAnglesRequest) Normalize() error {
	if len(r.Angles) == 0 {
		r.Angles = AngleKeys
	}
	for _, k := range r.Angles {
		if _, ok := AnglePrompts[k]; !ok {
			return lepus.FieldErrorf("path.angle_key", "%q is not one of %s", k, strings.Join(AngleKeys, ", "))
		}
	}
	return nil
}

// Images: the portrait is Lepus's own, already checked.
func (r *AvatarAnglesRequest) Images() []ImageInput { return nil }

func avatarAngles() *Definition {
	return &Definition{
		Type:            "avatar_reference_angles",
		Policy:          Policy{MaxRetries: 3, PollInterval: 5 * time.Second, MaxPolls: 60},
		NewRequest:      func() Request { return &AvatarAnglesRequest{} },
		KeepProviderURL: true,
		Plan: func(req Request) []lepus.Stage {
			var stages []lepus.Stage
			for _, k := range req.(*AvatarAnglesRequest).Angles {
				st := klingStage(k, kling.PathImageGenerations, PoolKlingImage, 1)
				st.Group, st.Optional = "angles", true
				stages = append(stages, st)
			}
			return stages
		},
		Build: func(t *lepus.Task, st *lepus.Stage, env Env) (any, error) {
			r, err := decodeInput[AvatarAnglesRequest](t)
			if err != nil {
				return nil, err
			}
			// A subject reference: kling-v1-5, the model documented for it
			// (contract-decisions #9), sent on purpose and recorded.
			return kling.ImageGenerationRequest{
				ModelName: ReferenceModel, Prompt: AnglePrompts[st.Name], Image: r.PortraitURL,
				ImageReference: "subject", ImageFidelity: ptr(0.75), HumanFidelity: ptr(0.80),
				Resolution: "1k", N: 1, CallbackURL: env.CallbackURL, ExternalTaskID: st.ExternalID,
			}, nil
		},
		// avatars/{user_id}/{avatar_id}_angle_{angle_key}.png
		StorageKey: func(t *lepus.Task, st *lepus.Stage, _ int, _ string) string {
			r, _ := decodeInput[AvatarAnglesRequest](t)
			return path.Join("avatars", SafeSegment(t.UserID), fmt.Sprintf("%s_angle_%s.png", r.AvatarID, st.Name))
		},
		Cost: func(req Request, costs map[string]int) int {
			return costs["avatar_angle"] * len(req.(*AvatarAnglesRequest).Angles)
		},
		Costs: map[string]int{"avatar_angle": 2}, // per reference angle
	}
}
