package job

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/riverqueue/river"

	"github.com/lepus-ai/lepus/internal/lepus"
	"github.com/lepus-ai/lepus/internal/sqlstore"
	"github.com/lepus-ai/lepus/internal/sqlstore/sqlstoretest"
	"github.com/lepus-ai/lepus/internal/workflow"
)

// legacyKinds are the job kinds released versions inserted: queued jobs of
// these kinds must find their worker after an upgrade.
var legacyKinds = []string{
	"face_swap", "image_to_video", "text_to_video", "multi_image_to_video", "lip_sync", "motion_control",
	"video_extend", "image_generation", "omni_image", "enhance_style", "avatar_confirm_portraits", "avatar_reference_angles",
}

// TestRegister_Kinds inserts a job for every workflow through a River client
// that refuses kinds without a worker (River's own check, on for a client
// with workers), and checks the kind and the stored args.
func TestRegister_Kinds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	reg := workflow.NewRegistry(0)
	workers := river.NewWorkers()
	kinds, err := Register(workers, &Engine{}, reg, 0)
	if err != nil {
		t.Fatal(err)
	}
	store, _ := sqlstoretest.Open(t, sqlstore.DialectSQLite)
	cfg := QueueConfig{Dialect: store.Dialect()}
	if err := Migrate(ctx, store.DB(), cfg); err != nil {
		t.Fatal(err)
	}
	client, waker, err := NewClient(store.DB(), workers, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(waker.Stop)
	enqueue := kinds.Enqueue(client)
	insert := func(taskType string) (int64, error) {
		tx, err := store.DB().BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = tx.Rollback() }()
		id, err := enqueue(ctx, tx, &lepus.Task{ID: "tsk_" + taskType, Type: taskType})
		if err == nil {
			err = tx.Commit()
		}
		return id, err
	}

	types := reg.Types()
	for _, k := range legacyKinds {
		if !slices.Contains(types, k) {
			t.Errorf("kind %s of released versions has no workflow", k)
		}
	}
	for _, typ := range types {
		id, err := insert(typ)
		if err != nil {
			t.Errorf("%s: %v", typ, err)
			continue
		}
		j, err := client.JobGet(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if j.Kind != typ || string(j.EncodedArgs) != `{"task_id":"tsk_`+typ+`"}` ||
			j.MaxAttempts != reg.Get(typ).Policy.MaxRetries+1 || j.Queue != QueueName {
			t.Errorf("%s: job kind %q args %s max attempts %d queue %s", typ, j.Kind, j.EncodedArgs, j.MaxAttempts, j.Queue)
		}
	}
	if _, err := insert("no_such_workflow"); err == nil || !strings.Contains(err.Error(), "no job kind") {
		t.Errorf("a task type without a workflow: %v", err)
	}
	if err := addWorker(workers, Args{kind: "face_swap"}, &worker{}); err == nil || !strings.Contains(err.Error(), "already registered") {
		t.Errorf("a second worker for a kind: %v", err)
	}
	// River itself refuses a kind no worker serves.
	var unknown *river.UnknownJobKindError
	if _, err := client.Insert(ctx, Args{TaskID: "tsk_x", kind: "no_such_workflow"}, nil); !errors.As(err, &unknown) {
		t.Errorf("River inserted a job without a worker: %v", err)
	}
}
