// Package httpapi is Lepus's HTTP API: huma v2 on the standard ServeMux,
// OpenAPI 3.1 at /openapi.json, problem+json errors, SSE task events.
package httpapi

import (
	"cmp"
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/lepus-ai/lepus/internal/app"
	"github.com/lepus-ai/lepus/internal/auth"
	"github.com/lepus-ai/lepus/internal/console"
	"github.com/lepus-ai/lepus/internal/metrics"
	"github.com/lepus-ai/lepus/internal/workflow"
)

// Deps are what the handlers need.
type Deps struct {
	App     *app.Service
	Auth    *auth.Signer
	Logger  *slog.Logger
	Version string
	// Extra mounts additional plain handlers (the provider sandbox) by pattern.
	Extra map[string]http.Handler
	// Admin is the admin area (the River UI at /admin/river); nil: none.
	Admin *Admin
	// Metrics are counted per request and served at GET /metrics; nil: none.
	Metrics *metrics.Metrics
	// Closing, when closed, ends every open event stream at once (the server
	// is shutting down; clients reconnect to another process).
	Closing <-chan struct{}
	// UploadTimeout bounds how long the body of an upload may take to
	// arrive; past it the upload is answered 408. Default 2 minutes.
	UploadTimeout time.Duration
	// RateLimit is each user's request rate (LEPUS_RATE_LIMIT,
	// LEPUS_RATE_BURST); zero: no limit.
	RateLimit RateLimit
	// PublicURL is the OpenAPI document's servers entry (LEPUS_PUBLIC_URL);
	// empty: "/", the server the document was fetched from.
	PublicURL string
	// ConsoleDevSignIn serves the console's developer sign-in, in sandbox
	// mode only (config.Config.ConsoleDevSignIn).
	ConsoleDevSignIn bool
	// Migrated reports whether the database schema is current, for
	// /readyz; nil: Lepus's own tables are checked.
	Migrated func(context.Context) error
}

// NewHandler returns the whole HTTP surface. Every route is listed here.
func NewHandler(d Deps) http.Handler {
	mux := http.NewServeMux()
	cfg := huma.DefaultConfig("Lepus", d.Version)
	cfg.Info.Description = "Workflow backend of an AI photo and video app: submit a job, watch it, download the results."
	cfg.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"bearer": {Type: "http", Scheme: "bearer", BearerFormat: "JWT"},
	}
	configureOpenAPI(&cfg, d.PublicURL)
	api := humago.New(mux, cfg)
	h := &handlers{app: d.App, log: d.Logger, version: d.Version, closing: d.Closing,
		uploadTimeout: cmp.Or(d.UploadTimeout, 2*time.Minute), migrated: d.Migrated}
	// Authentication first: a body is read only for a known caller.
	api.UseMiddleware(authMiddleware(api, d.Auth), noteUser, rateLimit(api, newUserLimiter(d.RateLimit, time.Now)), bodyDeadline(api))

	registerHealth(api, h)
	registerUploads(api, h)
	registerTasks(api, h)
	registerAssets(api, h)

	// Workflows: POST <path> with the workflow's request → 202 and the task.
	registerCreate[workflow.FaceSwapRequest](api, h, "face_swap", "face-swap", "/kling/face-swap",
		"Swap the face of one photo into another, optionally animated into a video")
	registerCreate[workflow.ImageToVideoRequest](api, h, "image_to_video", "image-to-video", "/kling/image-to-video",
		"Animate an image into a video")
	registerCreate[workflow.TextToVideoRequest](api, h, "text_to_video", "text-to-video", "/kling/text-to-video",
		"Make a video from a prompt")
	registerCreate[workflow.MultiImageToVideoRequest](api, h, "multi_image_to_video", "multi-image-to-video", "/kling/multi-image-to-video",
		"Make a video from one to four images and a prompt")
	registerCreate[workflow.LipSyncRequest](api, h, "lip_sync", "lip-sync", "/kling/lip-sync",
		"Make a face in a video speak an audio file")
	registerCreate[workflow.MotionControlRequest](api, h, "motion_control", "motion-control", "/kling/motion-control",
		"Make the character of an image move like the person in a video")
	registerCreate[workflow.VideoExtendRequest](api, h, "video_extend", "video-extend", "/kling/video-extend",
		"Extend a Kling video by about 5 seconds at its end")
	registerCreate[workflow.ImageGenerationRequest](api, h, "image_generation", "image-generation", "/kling/image-generation",
		"Generate images from a prompt, optionally from a reference image")
	registerCreate[workflow.OmniImageRequest](api, h, "omni_image", "omni-image", "/kling/omni-image",
		"Generate images from a prompt that refers to input images as <<<image_N>>>")

	// Enhance style: five capabilities, one job kind (enhance_style).
	registerCreate[workflow.SkinEnhanceRequest](api, h, "enhance_style", "skin-enhance", "/enhance-style/skin-enhance",
		"Retouch the skin of a portrait (natural, moderate or max)")
	registerCreate[workflow.RelightRequest](api, h, "enhance_style", "relight", "/enhance-style/relight",
		"Relight a photo (Stability AI)")
	registerCreate[workflow.OutfitSwapRequest](api, h, "enhance_style", "outfit-swap", "/enhance-style/outfit-swap",
		"Dress a person in a garment")
	registerCreate[workflow.AIStylistRequest](api, h, "enhance_style", "ai-stylist", "/enhance-style/ai-stylist",
		"Style a complete look around a garment")
	registerCreate[workflow.OutfitShotRequest](api, h, "enhance_style", "outfit-shot", "/enhance-style/outfit-shot",
		"Make social-media shots of a garment, up to four variations in parallel")

	registerCredits(api, h)
	registerCallbacks(api, h)
	registerEvents(api, h)
	registerAvatars(api, h)
	registerWebhooks(api, h)

	registerDocs(mux)
	pruneSchemas(api.OpenAPI()) // after the last huma operation

	mountAdmin(mux, d.Admin)
	mountMetrics(mux, d.Metrics, d.Logger)
	mux.Handle(console.Prefix, console.Handler(console.Config{Signer: d.Auth, Logger: d.Logger, PublicURL: d.PublicURL,
		DevSignIn: d.ConsoleDevSignIn && d.App != nil && d.App.Mode == "sandbox"}))
	for pattern, handler := range d.Extra {
		mux.Handle(pattern, handler)
	}
	return observe(d.Logger, d.Metrics, secureHeaders(recoverer(d.Logger, mux)))
}

// handlers carries the dependencies every handler shares.
type handlers struct {
	app     *app.Service
	log     *slog.Logger
	version string
	closing <-chan struct{} // nil: never
	// uploadTimeout is the upload operation's BodyReadTimeout.
	uploadTimeout time.Duration
	migrated      func(context.Context) error // nil: Lepus's tables only
}

// secured marks an operation as needing a bearer token.
var secured = []map[string][]string{{"bearer": {}}}

// recoverer turns a panic into a logged 500 instead of a dropped connection.
func recoverer(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				log.ErrorContext(r.Context(), "panic in handler", "method", r.Method, "path", r.URL.Path, "panic", v)
				w.Header().Set("Content-Type", "application/problem+json")
				w.WriteHeader(http.StatusInternalServerError)
				_, _ = w.Write([]byte(`{"title":"Internal Server Error","status":500,"detail":"internal error"}`))
			}
		}()
		next.ServeHTTP(w, r)
	})
}
