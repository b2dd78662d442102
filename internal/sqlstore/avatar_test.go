package sqlstore_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/lepus-ai/lepus/internal/lepus"
)

func (su suite) testAvatar(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, clock := su.open(t, 0)
	a := &lepus.Avatar{ID: "av_1", UserID: "u1", Engine: "doubao", SourceImageURLs: []string{"https://x/1.png", "https://x/2.png"}, ConfirmTaskID: "tsk_1"}
	if err := s.AvatarSave(ctx, a); err != nil {
		t.Fatalf("AvatarSave: %v", err)
	}
	got, err := s.AvatarGet(ctx, "av_1")
	if err != nil || got.ChosenIndex != nil || !reflect.DeepEqual(got.SourceImageURLs, a.SourceImageURLs) || got.ConfirmTaskID != "tsk_1" || len(got.AngleTasks) != 0 {
		t.Fatalf("AvatarGet = %+v, %v", got, err)
	}
	clock.Set(t0.Add(time.Minute))
	two := 2
	got.ChosenIndex, got.ChosenURL = &two, "https://lepus/uploads/upl_1"
	got.AngleTasks = map[string]string{"profile_right": "tsk_2"}
	if err := s.AvatarSave(ctx, got); err != nil {
		t.Fatalf("AvatarSave update: %v", err)
	}
	stale := *again0(t, s, "av_1")
	stale.UpdatedAt = got.CreatedAt // read before the last save
	wantCode(t, s.AvatarSave(ctx, &stale), lepus.EConflict)
	again, _ := s.AvatarGet(ctx, "av_1")
	if again.ChosenIndex == nil || *again.ChosenIndex != 2 || again.AngleTasks["profile_right"] != "tsk_2" || !again.CreatedAt.Equal(us(t0)) || !again.UpdatedAt.Equal(us(t0.Add(time.Minute))) {
		t.Fatalf("updated avatar = %+v", again)
	}
	if err := s.AvatarSave(ctx, &lepus.Avatar{ID: "av_2", UserID: "u1", Engine: "kling"}); err != nil {
		t.Fatal(err)
	}
	if err := s.AvatarSave(ctx, &lepus.Avatar{ID: "av_3", UserID: "u2", Engine: "kling"}); err != nil {
		t.Fatal(err)
	}
	list, err := s.AvatarList(ctx, "u1")
	if err != nil || len(list) != 2 || list[0].ID != "av_2" {
		t.Fatalf("AvatarList = %v, %v", list, err)
	}
	if err := s.AvatarDelete(ctx, "av_1"); err != nil {
		t.Fatal(err)
	}
	_, err = s.AvatarGet(ctx, "av_1")
	wantCode(t, err, lepus.ENotFound)
	wantCode(t, s.AvatarDelete(ctx, "av_1"), lepus.ENotFound)
	if list, _ := s.AvatarList(ctx, "u1"); len(list) != 1 {
		t.Fatalf("a deleted avatar is still listed: %v", list)
	}
}

func again0(t *testing.T, s interface {
	AvatarGet(context.Context, string) (*lepus.Avatar, error)
}, id string) *lepus.Avatar {
	t.Helper()
	a, err := s.AvatarGet(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
