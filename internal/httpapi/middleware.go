package httpapi

import (
	"errors"
	"fmt"
	"mime"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
)

// secureHeaders sets X-Content-Type-Options: nosniff on every response, so
// a browser never runs an upload or a problem+json body as something else.
func secureHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		next.ServeHTTP(w, r)
	})
}

// bodyDeadline answers 408 when a multipart body (an upload) has not
// arrived within the operation's BodyReadTimeout. huma answers 408 for a
// slow JSON body itself, but it reports a multipart read timeout as a 422
// "validation failed" whose detail holds the socket addresses. So the form
// is parsed here first, under the same deadline; huma then finds it parsed.
func bodyDeadline(api huma.API) func(huma.Context, func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		op := ctx.Operation()
		mt, _, _ := mime.ParseMediaType(ctx.Header("Content-Type"))
		if op == nil || op.BodyReadTimeout <= 0 || mt != "multipart/form-data" {
			next(ctx)
			return
		}
		_ = ctx.SetReadDeadline(time.Now().Add(op.BodyReadTimeout))
		_, err := ctx.GetMultipartForm()
		var ne net.Error
		switch {
		case err == nil:
			next(ctx)
		case errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
			_ = huma.WriteErr(api, ctx, http.StatusRequestTimeout,
				fmt.Sprintf("request body read timeout: the body did not arrive within %s; retry on a faster connection", op.BodyReadTimeout))
		default:
			msg := "cannot read multipart form: " + err.Error()
			var oe *net.OpError
			if errors.As(err, &oe) { // a socket error names the addresses
				msg = "cannot read multipart form: the connection failed"
			}
			_ = huma.WriteErr(api, ctx, http.StatusUnprocessableEntity, "validation failed",
				&huma.ErrorDetail{Location: "body", Message: msg})
		}
	}
}

// contentHeaders are sent with stored content (uploads and assets): the
// browser must show it as the given type, never run it, and save it under
// a name Lepus chose. The name is built from the id and the type only:
// nothing a user typed reaches the header.
func contentHeaders(w http.ResponseWriter, id, mimeType string) {
	h := w.Header()
	h.Set("Content-Type", mimeType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Content-Disposition", fmt.Sprintf(`inline; filename="%s%s"`, safeName(id), extOf[mimeType]))
}

// extOf maps the content types Lepus stores to a file extension.
var extOf = map[string]string{
	"image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp",
	"video/mp4": ".mp4", "video/quicktime": ".mov",
	"audio/mpeg": ".mp3", "audio/wav": ".wav", "audio/x-wav": ".wav", "audio/wave": ".wav",
	"audio/mp4": ".m4a", "audio/x-m4a": ".m4a", "audio/aac": ".aac",
}

// safeName keeps ASCII letters, digits, '-' and '_' of an id, so a quoted
// filename can never be broken out of.
func safeName(id string) string {
	name := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		}
		return -1
	}, id)
	if name == "" {
		return "content"
	}
	return name
}
