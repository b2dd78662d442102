package httpapi

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/lepus-ai/lepus/internal/app"
	"github.com/lepus-ai/lepus/internal/lepus"
)

// UploadView describes a stored upload.
type UploadView struct {
	ID        string  `json:"id"`
	URL       string  `json:"url" doc:"Public, unguessable URL of the content; use it as a workflow input URL."`
	Kind      string  `json:"kind" enum:"image,video,audio"`
	Format    string  `json:"format" doc:"png, jpeg, mp4, mov, mp3, wav, m4a or aac."`
	Mime      string  `json:"mime"`
	Bytes     int64   `json:"bytes"`
	Width     int     `json:"width" doc:"Pixels (images and videos)."`
	Height    int     `json:"height"`
	DurationS float64 `json:"duration_s" doc:"Seconds (videos and audio)."`
}

type uploadInput struct {
	RawBody huma.MultipartFormFiles[struct {
		File huma.FormFile `form:"file" required:"true" doc:"An image (JPEG, PNG or WebP, at most 20 MB; WebP is stored as PNG), a video (MP4 or MOV, at most 100 MB) or audio (MP3, WAV, M4A or AAC, at most 20 MB)."`
	}]
}

type uploadOutput struct {
	Body UploadView
}

type contentInput struct {
	ID string `path:"id" maxLength:"64"`
}

func registerUploads(api huma.API, h *handlers) {
	huma.Register(api, huma.Operation{
		OperationID: "create-upload", Method: http.MethodPost, Path: "/uploads",
		Summary: "Upload an image, video or audio file to use as a workflow input", Tags: []string{"Uploads"}, Security: secured,
		DefaultStatus: http.StatusCreated, MaxBodyBytes: app.MaxUploadBytes + 1<<20, BodyReadTimeout: h.uploadTimeout,
		Errors: []int{401, 408, 413, 422},
		Description: "Stores one file (multipart field file) and answers 201 with what was measured from its data: kind, " +
			"format, size, and pixels or duration. Use its url as a workflow input. The type is read from the content, " +
			"not from the file name; a file that is not what it claims, too large or too long is a 422 naming the field.",
	}, func(ctx context.Context, in *uploadInput) (*uploadOutput, error) {
		f := in.RawBody.Data().File
		if !f.IsSet {
			return nil, problem(ctx, h.log, lepus.FieldErrorf("body.file", "is required"))
		}
		up, err := h.app.CreateUpload(ctx, userID(ctx), f)
		if err != nil {
			return nil, problem(ctx, h.log, err)
		}
		return &uploadOutput{Body: UploadView{ID: up.ID, URL: h.app.UploadURL(up.ID), Kind: up.Kind, Format: up.Format,
			Mime: up.Mime, Bytes: up.Bytes, Width: up.Width, Height: up.Height, DurationS: up.DurationS}}, nil
	})

	huma.Register(api, huma.Operation{
		OperationID: "get-upload-content", Method: http.MethodGet, Path: "/uploads/{id}",
		Summary: "Download an upload (public: the id is the secret)", Tags: []string{"Uploads"}, Errors: []int{404},
		Security: public,
		Description: "The uploaded file as stored. It needs no token, so that providers can fetch it: the unguessable id " +
			"is the credential. Range requests are supported.",
	}, func(ctx context.Context, in *contentInput) (*huma.StreamResponse, error) {
		up, rd, err := h.app.OpenUpload(ctx, in.ID)
		if err != nil {
			return nil, problem(ctx, h.log, err)
		}
		return &huma.StreamResponse{Body: func(hctx huma.Context) {
			defer rd.Close()
			r, w := humago.Unwrap(hctx)
			contentHeaders(w, up.ID, up.Mime)
			w.Header().Set("Cache-Control", "private, max-age=86400")
			http.ServeContent(w, r, "", up.CreatedAt, rd)
		}}, nil
	})
}
