package httpapi

import (
	"cmp"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"net/http"
	"path"
	"regexp"
	"strings"
	"sync"

	"github.com/danielgtaylor/huma/v2"
)

// docsFS holds the API docs viewers (Swagger UI and ReDoc, see
// docsui/README.md for versions and licenses) and Lepus's pages for them:
// embedded, so the docs work with no network access. huma's own /docs page
// loads its scripts from a CDN, so it is turned off (configureOpenAPI).
//
//go:embed docsui/*.html docsui/*.js docsui/*.css
var docsFS embed.FS

// docsCSP lets the docs pages load only this server's scripts and styles.
// Inline styles: both viewers set them from script. blob: workers: ReDoc's
// search index. connect-src is left open so "Try it out" can call a
// LEPUS_PUBLIC_URL on another host.
const docsCSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; connect-src *; frame-ancestors 'none'"

// apiTags are the OpenAPI document's tags, each described, in the order
// the docs list them. Every tag an operation uses must be here
// (TestOpenAPI_Lint).
var apiTags = []*huma.Tag{
	{Name: "Workflows", Description: "Start a task: one operation per workflow. Each answers 202 with the new task, " +
		"or 200 with the same task when an Idempotency-Key is replayed. The task's credits are debited at once."},
	{Name: "Tasks", Description: "Read, list and cancel your tasks. A task moves from pending to processing to completed, failed or canceled."},
	{Name: "Uploads", Description: "Upload the images, videos and audio a task takes as input; a task may also take a URL."},
	{Name: "Assets", Description: "Download what tasks produced."},
	{Name: "Avatars", Description: "Build a reusable avatar from photos of a person, then use it in workflows."},
	{Name: "Credits", Description: "Your credit balance: tasks cost credits, refunded when a task fails or is canceled."},
	{Name: "Operations", Description: "Health checks for load balancers and orchestrators. No token needed."},
	{Name: "Webhooks", Description: "Have Lepus post a task's events to your server, signed with your webhook secret (Standard Webhooks)."},
	{Name: "Callbacks", Description: "Called by providers (Kling) when their work changes state. Not for clients."},
}

// public marks an operation anyone may call: an explicit empty security
// requirement, so the document says so rather than leaving it unstated.
var public = []map[string][]string{}

// configureOpenAPI sets what the OpenAPI document says beyond the
// operations: where the API is served, its tags, and no CDN docs page.
func configureOpenAPI(cfg *huma.Config, publicURL string) {
	cfg.DocsPath = "" // registerDocs serves /docs from the binary
	cfg.Servers = []*huma.Server{{URL: cmp.Or(publicURL, "/"), Description: "This Lepus server"}}
	cfg.Tags = apiTags
	cfg.OpenAPI.OnAddOperation = append(cfg.OpenAPI.OnAddOperation, inlineRequestBody)
}

// inlineRequestBody puts a JSON request body's schema in the operation
// itself rather than a $ref to components. openapi-typescript (with its
// defaults) types a property that has a default as always present, except
// under a requestBody, and a $ref'd component is not under one: a create
// given only its required fields would not type-check
// (openapi-ts/openapi-typescript#1903). The schema is copied into the
// *Schema huma registered for the body, which is also the one huma
// validates requests against; the component, now unused, is dropped by
// pruneSchemas.
func inlineRequestBody(oapi *huma.OpenAPI, op *huma.Operation) {
	if op.RequestBody == nil {
		return
	}
	mt := op.RequestBody.Content["application/json"]
	if mt == nil || mt.Schema == nil || mt.Schema.Ref == "" {
		return
	}
	if s := oapi.Components.Schemas.SchemaFromRef(mt.Schema.Ref); s != nil {
		*mt.Schema = *s
	}
}

// pruneSchemas removes the component schemas no operation refers to, even
// through other schemas: huma registers some it then inlines (multipart
// file fields, request bodies, hidden fields' types), and an unused
// component is lint noise and a type a client generator emits for nothing.
// Call it once every operation is registered.
func pruneSchemas(oapi *huma.OpenAPI) {
	schemas := oapi.Components.Schemas.Map()
	prefix := "#/components/schemas/"
	used := map[string]bool{}
	var queue []string
	visit := func(v any) {
		b, _ := json.Marshal(v)
		for _, m := range refPattern.FindAllSubmatch(b, -1) {
			if name, ok := strings.CutPrefix(string(m[1]), prefix); ok && !used[name] {
				used[name] = true
				queue = append(queue, name)
			}
		}
	}
	visit(oapi.Paths)
	visit(oapi.Webhooks)
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		visit(schemas[name])
	}
	for name := range schemas {
		if !used[name] {
			delete(schemas, name)
		}
	}
}

var refPattern = regexp.MustCompile(`"\$ref":"([^"]+)"`)

// registerDocs serves Swagger UI at /docs, ReDoc at /redoc and their
// assets at /docs/assets/, and sends / to /docs.
func registerDocs(mux *http.ServeMux) {
	mux.Handle("GET /docs", docsPage("docsui/swagger.html"))
	mux.Handle("GET /redoc", docsPage("docsui/redoc.html"))
	mux.Handle("GET /docs/assets/{name}", http.HandlerFunc(docsAsset))
	mux.Handle("GET /{$}", http.RedirectHandler("/docs", http.StatusFound))
}

// docsPage serves one of the embedded HTML pages.
func docsPage(name string) http.Handler {
	page, err := docsFS.ReadFile(name)
	if err != nil {
		panic("httpapi: embedded docs page missing: " + name) // a build error, not a runtime one
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", docsCSP)
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(page)
	})
}

// docsAsset serves an embedded script or stylesheet by name; anything else
// (a directory, a README, a path with a slash) is 404.
func docsAsset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	switch path.Ext(name) {
	case ".js", ".css":
	default:
		http.NotFound(w, r)
		return
	}
	etag, ok := docsETags()["docsui/"+name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	// Revalidated on each load, answered 304 until a new binary brings
	// other files: embedded files have no modification time to go by.
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("ETag", etag)
	http.ServeFileFS(w, r, docsFS, "docsui/"+name)
}

// docsETags maps each embedded file to an ETag of its content, computed
// once.
var docsETags = sync.OnceValue(func() map[string]string {
	tags := map[string]string{}
	_ = fs.WalkDir(docsFS, "docsui", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := docsFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		tags[p] = `"` + hex.EncodeToString(sum[:12]) + `"`
		return nil
	})
	return tags
})
