package httpapi

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
)

type assetOutput struct {
	Body AssetView
}

func registerAssets(api huma.API, h *handlers) {
	huma.Register(api, huma.Operation{
		OperationID: "get-asset", Method: http.MethodGet, Path: "/assets/{id}",
		Summary: "Get an asset's metadata (owner only)", Tags: []string{"Assets"}, Security: secured, Errors: []int{401, 404},
		Description: "What a task produced: kind, type, size, pixels or duration, and the URL of its content. " +
			"Only the owner of the task can read it.",
	}, func(ctx context.Context, in *contentInput) (*assetOutput, error) {
		a, err := h.app.GetAsset(ctx, userID(ctx), in.ID)
		if err != nil {
			return nil, problem(ctx, h.log, err)
		}
		return &assetOutput{Body: assetView(h.app, a)}, nil
	})

	huma.Register(api, huma.Operation{
		OperationID: "get-asset-content", Method: http.MethodGet, Path: "/assets/{id}/content",
		Summary: "Download an asset (owner only; supports Range)", Tags: []string{"Assets"}, Security: secured, Errors: []int{401, 404},
		Description: "The content of an asset, with its own Content-Type. Range requests are supported, so a video can be " +
			"played while it downloads. Only the owner of the task can download it.",
	}, func(ctx context.Context, in *contentInput) (*huma.StreamResponse, error) {
		a, rd, err := h.app.OpenAsset(ctx, userID(ctx), in.ID)
		if err != nil {
			return nil, problem(ctx, h.log, err)
		}
		return &huma.StreamResponse{Body: func(hctx huma.Context) {
			defer rd.Close()
			r, w := humago.Unwrap(hctx)
			contentHeaders(w, a.ID, a.Mime)
			w.Header().Set("Cache-Control", "private, max-age=3600")
			http.ServeContent(w, r, "", a.CreatedAt, rd)
		}}, nil
	})
}
