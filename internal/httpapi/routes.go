// Package httpapi is Lepus's HTTP API: huma v2 on the standard ServeMux,
// OpenAPI 3.1 at /openapi.json, problem+json errors, SSE task events.
package httpapi

import (
	"cmp"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"reflect"
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
	App *app.Service
	// Workflows are the workflows whose routes are served (their
	// Definition.Routes); nil: every workflow, as in workflow.NewRegistry.
	Workflows *workflow.Registry
	Auth      *auth.Signer
	Logger    *slog.Logger
	Version   string
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
	workflows := d.Workflows
	if workflows == nil {
		workflows = workflow.NewRegistry(0)
	}
	for _, def := range workflows.Definitions() {
		for _, rt := range def.Routes {
			registerWorkflow(api, h, def.Type, rt)
		}
	}

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

// registerWorkflow registers a workflow route: POST rt.Path with the
// route's request type as the body, answering 202 and the task. The type is
// known only at run time (a registry value) and Go cannot instantiate a
// generic from one, so the body is read raw (createBody[json.RawMessage],
// which still reads the webhook fields) and decoded here into the route's
// request, after huma has validated it against the request type's schema,
// set on the operation (the OpenAPI document is as a typed body makes it).
func registerWorkflow(api huma.API, h *handlers, taskType string, rt workflow.Route) {
	reg := api.OpenAPI().Components.Schemas
	ref := reg.Schema(reflect.TypeOf(rt.New()).Elem(), true, "")
	schema := reg.SchemaFromRef(ref.Ref)
	if schema != nil {
		addWebhookFields(schema)
	}
	huma.Register(api, huma.Operation{
		OperationID: rt.OperationID(), Method: http.MethodPost, Path: rt.Path,
		Summary: rt.Summary, Tags: []string{"Workflows"}, Security: secured,
		DefaultStatus: http.StatusAccepted, MaxBodyBytes: 64 << 10,
		Errors: []int{400, 401, 402, 409, 413, 422, 429}, Responses: withReplayResponse(api, createdResponse(api)),
		RequestBody: &huma.RequestBody{Content: map[string]*huma.MediaType{"application/json": {Schema: ref}}},
		Description: "Starts a " + taskType + " task and answers 202 with it: follow it with GET /tasks/{id} or its event stream. " +
			"Its cost in credits is debited now and refunded if the task fails or is canceled; a short balance is a 402. " +
			"Inputs given as URLs may be uploads (POST /uploads) or public http(s) URLs. " +
			"With an Idempotency-Key, the same key and body again answer 200 with the same task and Idempotent-Replayed: true " +
			"(nothing new is started or paid); the same key with another body is a 409.",
	}, func(ctx context.Context, in *createInput[json.RawMessage]) (*TaskOutput, error) {
		req := rt.New()
		if err := decodeRequest(in.Body.Request, schema, req); err != nil {
			return nil, huma.Error422UnprocessableEntity("validation failed", &huma.ErrorDetail{Location: "body", Message: err.Error()})
		}
		t, created, err := h.app.CreateTask(ctx, app.CreateTaskParams{
			UserID: userID(ctx), Type: taskType, Request: req, IdempotencyKey: in.IdempotencyKey,
			Webhook: in.Body.Hook.app(),
		})
		if err != nil {
			return nil, problem(ctx, h.log, err)
		}
		out := &TaskOutput{Status: http.StatusAccepted, Location: "/tasks/" + t.ID, Body: taskView(h.app, t)}
		if !created {
			out.Status, out.Replayed = http.StatusOK, "true"
		}
		if in.wait > 0 {
			return h.answerWait(ctx, out, t, created, in.wait)
		}
		return out, nil
	})
}

// decodeRequest decodes a validated body into req, first giving each
// property the body leaves out (or sets to null) its schema default: what
// huma does for a typed body, from the same default tags.
func decodeRequest(body json.RawMessage, schema *huma.Schema, req workflow.Request) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return err
	}
	if schema != nil {
		for name, p := range schema.Properties {
			if v, ok := fields[name]; p.Default == nil || (ok && string(v) != "null") {
				continue
			}
			b, err := json.Marshal(p.Default)
			if err != nil {
				return err
			}
			fields[name] = b
		}
	}
	b, err := json.Marshal(fields)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, req)
}
