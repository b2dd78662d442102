// Package workflow defines each Lepus workflow: its request, defaults,
// queue policy, cost, and how its provider stages are planned and built.
// A workflow is data and small pure functions; the job package runs them.
package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"path"
	"slices"
	"sort"
	"time"

	"github.com/lepus-ai/lepus/internal/lepus"
)

// Policy is a workflow's queue policy, as in workflows.md "Queue policies at
// a glance".
type Policy struct {
	// MaxRetries is the number of retries after the first attempt.
	MaxRetries int
	// PollInterval is how long to wait between provider polls.
	PollInterval time.Duration
	// MaxPolls bounds the polls of one provider stage.
	MaxPolls int
	// SoftLimit bounds the task's processing time, counted from its first
	// accepted provider submission; past it the task fails cleanly. Zero: none.
	SoftLimit time.Duration
	// HardLimit is Celery's time_limit, which killed a worker process that
	// ran too long. Lepus holds no process for the task's whole life (waiting
	// is a snooze), so it bounds each run of the job instead, when shorter
	// than the queue's job timeout. Zero: the queue's default.
	HardLimit time.Duration
}

// Request is a validated workflow request body.
type Request interface {
	// Normalize applies defaults and checks the fields the schema cannot,
	// returning *lepus.Error naming the field.
	Normalize() error
	// Images lists the image URL inputs for checking before any provider call.
	Images() []ImageInput
}

// ImageInput is one image URL field of a request. The checker may replace
// *URL (for example with a PNG copy of a WebP upload).
type ImageInput struct {
	// Field is the problem location, e.g. "body.face_image_url".
	Field string
	URL   *string
	// NeedFace refuses an image in which no face is found.
	NeedFace bool
}

// Failure is a Build error that fails the task with a reason a person
// understands (for example "no face found in the video"), rather than as an
// internal error.
type Failure struct {
	Code      string
	Message   string
	Retryable bool
}

func (f *Failure) Error() string { return f.Message }

// ErrSkip from Build ends a stage without calling the provider (a fallback
// that is not needed).
var ErrSkip = errors.New("workflow: stage not needed")

// Env is what building a provider request needs from the running system.
type Env struct {
	// CallbackURL is where the provider may post status changes; empty when
	// the provider cannot reach Lepus (then polling alone finishes tasks).
	CallbackURL string
	// SeedreamModel is the Ark model or endpoint id for Seedream.
	SeedreamModel string
}

// Definition describes one workflow, once: everything else (its HTTP
// routes, its River job kind and worker, its entries in the cost table) is
// derived from it through the Registry.
type Definition struct {
	// Type is the task type and the name of its River job kind, e.g.
	// "face_swap". Stored tasks and queued jobs carry it: never rename a
	// released one.
	Type   string
	Policy Policy
	// Routes are the workflow's HTTP entries: POST Path with the request as
	// its body starts a task. None: the workflow is started another way
	// (the avatar endpoints).
	Routes []Route
	// NewRequest returns an empty request to decode into.
	NewRequest func() Request
	// Plan returns the provider stages of a request, in order.
	Plan func(req Request) []lepus.Stage
	// Build returns the exact provider request body of a stage. It runs
	// once, just before the stage's first submit; the body is persisted and
	// reused by every retry.
	Build func(t *lepus.Task, st *lepus.Stage, env Env) (any, error)
	// Cost returns the credits the request costs, from the cost table.
	Cost func(req Request, costs map[string]int) int
	// KeepProviderURL records an asset with only the provider's URL when
	// its download fails, instead of failing (avatar portraits; the asset
	// says it is not stored).
	KeepProviderURL bool
	// StorageKey, if set, names where a result is stored (the avatar paths
	// of workflows.md); ext is ".png", ".jpg" or ".mp4". Default:
	// results/<user>/<task>/<stage>-<i><ext>.
	StorageKey func(t *lepus.Task, st *lepus.Stage, i int, ext string) string
	// Costs are the cost-table entries Cost reads, with their default
	// credits. LEPUS_COSTS may override these keys and no others; start-up
	// refuses a table that lacks one, so no workflow is silently free.
	Costs map[string]int
	// Check, if set, runs the request's checks that need I/O (media lengths,
	// assets) after its image inputs are checked and before anything is
	// paid. It may record what it measured on the request and returns notes
	// for the task.
	Check func(ctx context.Context, userID string, req Request, in Inputs) (notes []string, err error)
}

// Route is one HTTP entry of a workflow: POST Path with the request (plus
// the webhook fields every create takes) answers 202 and the task.
type Route struct {
	// Path is the route, e.g. "/kling/face-swap"; its last element is the
	// OpenAPI operation id.
	Path string
	// Summary is the operation's one-line summary in the OpenAPI document.
	Summary string
	// New returns an empty request of the route's type, whose fields and
	// tags make the body's schema; nil: the definition's NewRequest.
	New func() Request
}

// OperationID is the route's OpenAPI operation id, e.g. "face-swap".
func (r Route) OperationID() string { return path.Base(r.Path) }

// Registry holds every workflow by type.
type Registry struct {
	defs  map[string]*Definition
	order []*Definition // as listed in NewRegistry
}

// NewRegistry returns a registry of all Lepus workflows, with polls
// overridden by pollInterval when it is non-zero (tests and benchmarks).
// A new workflow is one more constructor in this list.
func NewRegistry(pollInterval time.Duration) *Registry {
	r := &Registry{defs: map[string]*Definition{}}
	paths, costs := map[string]string{}, map[string]string{}
	for _, d := range []*Definition{
		faceSwap(), imageToVideo(), textToVideo(), multiImageToVideo(), lipSync(),
		motionControl(), videoExtend(), imageGeneration(), omniImage(), enhanceStyle(),
		avatarPortraits(), avatarAngles(),
	} {
		if pollInterval > 0 {
			d.Policy.PollInterval = pollInterval
			plan := d.Plan
			d.Plan = func(req Request) []lepus.Stage { // the override wins over stage advice too
				stages := plan(req)
				for i := range stages {
					stages[i].PollInterval = 0
				}
				return stages
			}
		}
		if d.Type == "" {
			panic("workflow: a definition has no Type")
		}
		if _, dup := r.defs[d.Type]; dup {
			panic(fmt.Sprintf("workflow: %s registered twice", d.Type))
		}
		for i := range d.Routes {
			rt := &d.Routes[i]
			if rt.New == nil {
				rt.New = d.NewRequest
			}
			if rt.New == nil {
				panic(fmt.Sprintf("workflow: %s route %s has no request type", d.Type, rt.Path))
			}
			if other, dup := paths[rt.Path]; dup {
				panic(fmt.Sprintf("workflow: route %s declared by %s and %s", rt.Path, other, d.Type))
			}
			paths[rt.Path] = d.Type
		}
		for k := range d.Costs {
			if other, dup := costs[k]; dup {
				panic(fmt.Sprintf("workflow: cost key %q declared by %s and %s", k, other, d.Type))
			}
			costs[k] = d.Type
		}
		r.defs[d.Type] = d
		r.order = append(r.order, d)
	}
	return r
}

// DefaultCosts returns the default cost table: every workflow's Costs.
func (r *Registry) DefaultCosts() map[string]int {
	out := map[string]int{}
	for _, d := range r.order {
		maps.Copy(out, d.Costs)
	}
	return out
}

// CheckCosts reports a cost-table entry some workflow needs and the table
// lacks (a table built by hand; config's has every default).
func (r *Registry) CheckCosts(costs map[string]int) error {
	for _, t := range r.Types() {
		for _, k := range slices.Sorted(maps.Keys(r.defs[t].Costs)) {
			if _, ok := costs[k]; !ok {
				return fmt.Errorf("cost table has no %q (needed by %s)", k, t)
			}
		}
	}
	return nil
}

// Definitions returns every workflow in the order NewRegistry lists them
// (the order of their routes in the OpenAPI document).
func (r *Registry) Definitions() []*Definition { return slices.Clone(r.order) }

// Get returns the definition of a task type, or nil.
func (r *Registry) Get(taskType string) *Definition { return r.defs[taskType] }

// Types returns every registered task type, sorted.
func (r *Registry) Types() []string {
	out := make([]string, 0, len(r.defs))
	for t := range r.defs {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// AssignCosts splits a task's cost over its optional grouped stages (the
// parts of a task, such as outfit-shot variations), so a failed part's
// share can be refunded; the remainder goes to the first. A lone optional
// stage is a fallback point (the next stage does its work) and carries no
// share.
func AssignCosts(stages []lepus.Stage, total int) {
	var opt []int
	for i := range stages {
		if stages[i].Optional && stages[i].Group != "" {
			opt = append(opt, i)
		}
	}
	if len(opt) == 0 {
		return
	}
	share := total / len(opt)
	for _, i := range opt {
		stages[i].Cost = share
	}
	stages[opt[0]].Cost += total - share*len(opt)
}

// decodeInput decodes a task's stored input into a request of type T.
func decodeInput[T any](t *lepus.Task) (*T, error) {
	var req T
	if err := json.Unmarshal(t.Input, &req); err != nil {
		return nil, fmt.Errorf("decode %s input: %w", t.Type, err)
	}
	return &req, nil
}
