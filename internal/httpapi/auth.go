package httpapi

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/lepus-ai/lepus/internal/auth"
)

type userKey struct{}

// authMiddleware verifies the bearer token of secured operations and puts
// the user id in the context.
func authMiddleware(api huma.API, signer *auth.Signer) func(huma.Context, func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		if op := ctx.Operation(); op == nil || len(op.Security) == 0 {
			next(ctx)
			return
		}
		token, ok := auth.BearerToken(ctx.Header("Authorization"))
		if !ok {
			ctx.SetHeader("WWW-Authenticate", `Bearer realm="lepus"`)
			_ = huma.WriteErr(api, ctx, http.StatusUnauthorized, "missing bearer token: send Authorization: Bearer <JWT>")
			return
		}
		user, err := signer.Verify(token)
		if err != nil {
			ctx.SetHeader("WWW-Authenticate", `Bearer realm="lepus", error="invalid_token"`)
			_ = huma.WriteErr(api, ctx, http.StatusUnauthorized, err.Error())
			return
		}
		next(huma.WithValue(ctx, userKey{}, user))
	}
}

// userID returns the authenticated user of a secured operation.
func userID(ctx context.Context) string {
	u, _ := ctx.Value(userKey{}).(string)
	return u
}
