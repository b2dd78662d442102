package sqlstore_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/lepus-ai/lepus/internal/lepus"
)

func (su suite) testTaskList(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("Pages", func(t *testing.T) {
		t.Parallel()
		s, clock := su.open(t, 0)
		// Four tasks share a timestamp, so ids break the tie; three are newer.
		var want []string
		for i, at := range []time.Duration{0, 0, 0, 0, time.Second, 2 * time.Second, 3 * time.Second} {
			clock.Set(t0.Add(at))
			id := fmt.Sprintf("tsk_%d", i)
			create(t, s, newTask(id, "u1"), 1000)
			want = append(want, id)
		}
		create(t, s, newTask("other", "u2"), 1000)
		slices.Reverse(want) // newest first; equal times by id descending

		var got []string
		cursor := ""
		for page := 1; ; page++ {
			tasks, next, err := s.TaskList(ctx, &lepus.TaskListParams{UserID: "u1", Cursor: cursor, Limit: 3})
			if err != nil {
				t.Fatalf("TaskList page %d: %v", page, err)
			}
			if page < 3 && (len(tasks) != 3 || next == "") || page == 3 && (len(tasks) != 1 || next != "") {
				t.Fatalf("page %d: %d tasks, next %q", page, len(tasks), next)
			}
			for _, task := range tasks {
				got = append(got, task.ID)
			}
			if page == 1 {
				// A task arriving between pages does not shift later pages.
				clock.Set(t0.Add(time.Hour))
				create(t, s, newTask("newest", "u1"), 1000)
			}
			if next == "" {
				break
			}
			cursor = next
		}
		if !slices.Equal(got, want) {
			t.Fatalf("pages = %v, want %v", got, want)
		}
	})

	t.Run("Filters", func(t *testing.T) {
		t.Parallel()
		s, _ := su.open(t, time.Millisecond)
		create(t, s, newTask("img_1", "u1"), 1000)
		video := newTask("vid_1", "u1")
		video.Type = "video"
		create(t, s, video, 1000)
		keyed := newTask("img_2", "u1")
		keyed.IdempotencyKey = "k-1"
		create(t, s, keyed, 1000)
		if _, err := s.TaskFinish(ctx, &lepus.TaskFinishParams{ID: "img_2", Status: lepus.StatusFailed}); err != nil {
			t.Fatalf("TaskFinish: %v", err)
		}
		if _, err := s.AssetUpsert(ctx, &lepus.Asset{TaskID: "img_1", UserID: "u1", Stage: "image", Kind: lepus.AssetImage}); err != nil {
			t.Fatalf("AssetUpsert: %v", err)
		}
		for _, tc := range []struct {
			name string
			p    lepus.TaskListParams
			want []string
		}{
			{"All", lepus.TaskListParams{UserID: "u1"}, []string{"img_2", "vid_1", "img_1"}},
			{"Status", lepus.TaskListParams{UserID: "u1", Status: lepus.StatusPending}, []string{"vid_1", "img_1"}},
			{"Type", lepus.TaskListParams{UserID: "u1", Type: "image"}, []string{"img_2", "img_1"}},
			{"Both", lepus.TaskListParams{UserID: "u1", Type: "image", Status: lepus.StatusFailed}, []string{"img_2"}},
			{"OtherUser", lepus.TaskListParams{UserID: "u2"}, nil},
			{"IdempotencyKey", lepus.TaskListParams{UserID: "u1", IdempotencyKey: "k-1"}, []string{"img_2"}},
			{"IdempotencyKeyOtherUser", lepus.TaskListParams{UserID: "u2", IdempotencyKey: "k-1"}, nil},
		} {
			tasks, next, err := s.TaskList(ctx, &tc.p)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			var ids []string
			for _, task := range tasks {
				ids = append(ids, task.ID)
				if task.ID == "img_1" && len(task.Assets) != 1 {
					t.Fatalf("%s: img_1 listed with %d assets, want 1", tc.name, len(task.Assets))
				}
			}
			if !slices.Equal(ids, tc.want) || next != "" {
				t.Fatalf("%s: got %v next %q, want %v", tc.name, ids, next, tc.want)
			}
		}
	})

	t.Run("Limits", func(t *testing.T) {
		t.Parallel()
		s, _ := su.open(t, time.Millisecond)
		for i := range 101 {
			task := newTask(fmt.Sprintf("tsk_%03d", i), "u1")
			task.Cost = 0
			create(t, s, task, 0)
		}
		for _, tc := range []struct{ limit, want int }{{0, 20}, {1000, 100}, {5, 5}} {
			tasks, next, err := s.TaskList(ctx, &lepus.TaskListParams{UserID: "u1", Limit: tc.limit})
			if err != nil {
				t.Fatalf("TaskList: %v", err)
			}
			if len(tasks) != tc.want || next == "" {
				t.Fatalf("limit %d: %d tasks, next %q; want %d and a next cursor", tc.limit, len(tasks), next, tc.want)
			}
		}
	})

	t.Run("ErrInvalid", func(t *testing.T) {
		t.Parallel()
		s, _ := su.open(t, 0)
		for _, p := range []*lepus.TaskListParams{
			{UserID: "u1", Cursor: "!!not base64"},
			{UserID: "u1", Cursor: "bm9jb2xvbg"}, // "nocolon"
			{UserID: "u1", Status: "sleeping"},
		} {
			_, _, err := s.TaskList(ctx, p)
			wantCode(t, err, lepus.EInvalid)
		}
	})

	t.Run("Unfinished", func(t *testing.T) {
		t.Parallel()
		s, _ := su.open(t, time.Millisecond)
		for _, id := range []string{"a_first", "b_second", "c_third"} {
			create(t, s, newTask(id, "u1"), 1000)
		}
		if _, err := s.TaskFinish(ctx, &lepus.TaskFinishParams{ID: "b_second", Status: lepus.StatusCompleted}); err != nil {
			t.Fatalf("TaskFinish: %v", err)
		}
		tasks, err := s.TaskListUnfinished(ctx, 0)
		if err != nil {
			t.Fatalf("TaskListUnfinished: %v", err)
		}
		var ids []string
		for _, task := range tasks {
			ids = append(ids, task.ID)
		}
		if !slices.Equal(ids, []string{"a_first", "c_third"}) {
			t.Fatalf("unfinished = %v", ids)
		}
		if tasks, _ := s.TaskListUnfinished(ctx, 1); len(tasks) != 1 || tasks[0].ID != "a_first" {
			t.Fatalf("limit 1 = %v", tasks)
		}
	})
}
