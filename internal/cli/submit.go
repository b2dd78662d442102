package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

const submitSynopsis = `submit <workflow> [--set field=value ...] [--file field=path ...] [--json body.json] [--wait] [--out dir]

Uploads the --file inputs, creates the task with an idempotency key and, with
--wait or --out, follows its progress to the end and downloads the results.
--set values are JSON when they parse (numbers, booleans), else text; a field
the API defines as text stays text. Repeat an array field to add items.
Exit codes: 0 ok, 1 usage, 2 refused by the API (4xx), 3 server or network
error, 4 the task failed or was canceled.`

func runSubmit(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("submit", submitSynopsis, env)
	var conn connFlags
	conn.register(fs)
	var list []assignment
	fs.Var(assignments{list: &list}, "set", "set a request field: field=value (dotted keys nest: a.b=1); repeatable")
	fs.Var(assignments{list: &list, file: true}, "file", "upload a local file and set the field to its URL: field=path; repeatable")
	jsonPath := fs.String("json", "", "start from this JSON request body (- for standard input)")
	wait := fs.Bool("wait", false, "follow the task to its end and download the results into --out")
	out := fs.String("out", "", "directory for the results (implies --wait; default the current directory)")
	key := fs.String("idempotency-key", "", "use this key instead of a random one (to run the same submit again safely)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	c, err := conn.client(env)
	if err != nil {
		return err
	}
	wfs, err := c.Workflows(ctx)
	if err != nil {
		return fmt.Errorf("list workflows: %w", err)
	}
	if len(pos) != 1 {
		fs.Usage()
		printWorkflows(env.Stderr, wfs)
		return usageErrorf("submit: want one workflow, got %d arguments", len(pos))
	}
	wf, ok := findWorkflow(wfs, pos[0])
	if !ok {
		printWorkflows(env.Stderr, wfs)
		return usageErrorf("submit: no workflow %q (see the list above)", pos[0])
	}
	body, err := readBody(*jsonPath, env.Stdin)
	if err != nil {
		return err
	}
	for _, a := range list {
		field := wf.Body.field(a.keys)
		var v any
		if a.file {
			up, err := c.Upload(ctx, a.value)
			if err != nil {
				return fmt.Errorf("upload %s (%s): %w", a.value, a.key, err)
			}
			fmt.Fprintf(env.Stdout, "uploaded   %s → %s (%s %s)\n", a.value, a.key, up.Kind, dims(Asset{Width: up.Width, Height: up.Height, DurationS: up.DurationS, Bytes: up.Bytes}))
			v = up.URL
		} else {
			v = coerce(a.value, field)
		}
		if err := setValue(body, a.keys, v, field); err != nil {
			return usageErrorf("--set %s: %v", a.key, err)
		}
	}
	data, err := json.Marshal(body)
	if err != nil {
		return usageErrorf("request body: %v", err)
	}
	if *key == "" {
		*key = newKey()
	}
	fmt.Fprintf(env.Stdout, "idempotency key %s\n", *key)
	t, replayed, err := c.Create(ctx, wf.Path, data, *key)
	if err != nil {
		return fmt.Errorf("submit %s: %w", wf.Name, err)
	}
	how := "created"
	if replayed {
		how = "already created with this key"
	}
	fmt.Fprintf(env.Stdout, "task       %s %s (%s, %d credits)\n", t.ID, how, t.Type, t.Cost)
	if !*wait && *out == "" {
		fmt.Fprintf(env.Stdout, "follow it with: lepus task %s\n", t.ID)
		return nil
	}
	t, err = follow(ctx, c, t, newProgress(env.Stdout), c.backoff)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("stopped watching; task %s goes on (lepus task %s, lepus cancel %s)", t.ID, t.ID, t.ID)
		}
		return fmt.Errorf("follow task %s: %w", t.ID, err)
	}
	if t.Status != "completed" {
		return &EndedError{Task: t}
	}
	for _, st := range t.Stages {
		if st.Error != nil {
			fmt.Fprintf(env.Stdout, "warning    part %s failed: %s (refunded)\n", st.Name, st.Error.Message)
		}
	}
	return saveAssets(ctx, c, t, *out, env.Stdout)
}

// readBody reads the --json body, or starts from an empty object.
func readBody(path string, stdin io.Reader) (map[string]any, error) {
	body := map[string]any{}
	if path == "" {
		return body, nil
	}
	var data []byte
	var err error
	if path == "-" {
		if stdin == nil {
			return nil, usageErrorf("--json -: no standard input")
		}
		data, err = io.ReadAll(stdin)
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, usageErrorf("--json: %v", err)
	}
	if err := json.Unmarshal(data, &body); err != nil {
		return nil, usageErrorf("--json %s: not a JSON object: %v", path, err)
	}
	if body == nil { // the file said null
		body = map[string]any{}
	}
	return body, nil
}

// newKey returns a random idempotency key.
func newKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails (crypto/rand panics rather than return an error)
	return "cli-" + hex.EncodeToString(b)
}

// follow shows the task's events until it ends and returns it as it
// ended. A stream that ends early (the server restarting, a dropped
// connection) is reconnected after a look at the task.
func follow(ctx context.Context, c *Client, t *Task, p progress, backoff time.Duration) (*Task, error) {
	defer p.done()
	cur := EventState{Status: t.Status, Progress: t.Progress, Step: t.Step}
	p.state(cur)
	for !t.Terminal() {
		err := c.Events(ctx, t.ID, func(ev Event) error {
			switch ev.Name {
			case "status", "progress":
				var s EventState
				if err := json.Unmarshal(ev.Data, &s); err != nil {
					return nil // a newer server's event we do not know: skip it
				}
				if ev.Name == "status" && s.Status == "" && s.Error != nil {
					return &Problem{Status: 404, Title: "Not Found", Detail: s.Error.Message}
				}
				cur.Progress, cur.Step = s.Progress, s.Step
				if s.Status != "" {
					cur.Status = s.Status
				}
				p.state(cur)
			case "asset":
				var a Asset
				if json.Unmarshal(ev.Data, &a) == nil {
					p.asset(a)
				}
			}
			return nil
		})
		if ctx.Err() != nil {
			return t, ctx.Err()
		}
		var prob *Problem
		if errors.As(err, &prob) && prob.Status < 500 {
			return t, err
		}
		next, _, gerr := c.Task(ctx, t.ID)
		if gerr != nil {
			return t, gerr
		}
		t = next
		cur = EventState{Status: t.Status, Progress: t.Progress, Step: t.Step}
		p.state(cur)
		if !t.Terminal() && err != nil { // the stream broke: do not spin on a server that keeps failing
			timer := time.NewTimer(backoff)
			select {
			case <-ctx.Done():
				timer.Stop()
				return t, ctx.Err()
			case <-timer.C:
			}
		}
	}
	return t, nil
}

// assetID is what an asset id may hold: it becomes a file name.
var assetID = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// saveAssets downloads every asset of t into dir (default "."), each
// through a temporary file so no half-written result is left behind.
func saveAssets(ctx context.Context, c *Client, t *Task, dir string, w io.Writer) error {
	if dir == "" {
		dir = "."
	}
	if len(t.Assets) == 0 {
		fmt.Fprintln(w, "no results to download")
		return nil
	}
	// The file names come from the server's asset ids: one that is not a
	// plain id ("../x", "/etc/x") could write outside dir, so none is
	// downloaded then.
	for _, a := range t.Assets {
		if !assetID.MatchString(a.ID) {
			return &ExitError{Code: ExitServer, Err: fmt.Errorf("the server sent an invalid asset id %q (want letters, digits, _ and -)", a.ID)}
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return usageErrorf("--out: %v", err)
	}
	for _, a := range t.Assets {
		path := filepath.Join(dir, a.ID+extension(a))
		if err := saveAsset(ctx, c, a, path); err != nil {
			return fmt.Errorf("download %s: %w", a.ID, err)
		}
		fmt.Fprintf(w, "saved      %s (%s %s)\n", path, a.Kind, dims(a))
	}
	return nil
}

func saveAsset(ctx context.Context, c *Client, a Asset, path string) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".lepus-download-*")
	if err != nil {
		return usageErrorf("%v", err)
	}
	defer os.Remove(f.Name()) // after the rename, a no-op
	if err := c.Download(ctx, a, f); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o644); err != nil { // CreateTemp made it private
		f.Close()
		return usageErrorf("%v", err)
	}
	if err := f.Close(); err != nil {
		return usageErrorf("%v", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return usageErrorf("%v", err)
	}
	return nil
}

// extension is the file extension for an asset's MIME type.
func extension(a Asset) string {
	switch strings.ToLower(strings.TrimSpace(strings.Split(a.Mime, ";")[0])) {
	case "image/png":
		return ".png"
	case "image/jpeg":
		return ".jpg"
	case "image/webp":
		return ".webp"
	case "video/mp4":
		return ".mp4"
	case "video/quicktime":
		return ".mov"
	}
	if exts, _ := mime.ExtensionsByType(a.Mime); len(exts) > 0 {
		return exts[0]
	}
	return ".bin"
}

// printWorkflows lists the server's workflows.
func printWorkflows(w io.Writer, wfs []Workflow) {
	fmt.Fprintln(w, "\nWorkflows:")
	for _, wf := range wfs {
		fmt.Fprintf(w, "  %-22s %s\n", wf.Name, wf.Summary)
	}
}
