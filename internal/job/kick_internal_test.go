package job

import (
	"context"
	"log/slog"
	"testing"
)

// TestKickAsync_Coalesces: kicks asked for while one is being sent fold
// into exactly one more send after it, so none is lost and a burst costs
// two sends; after Stop nothing is sent.
func TestKickAsync_Coalesces(t *testing.T) {
	w := &Waker{log: slog.New(slog.DiscardHandler)}
	w.ctx, w.cancel = context.WithCancel(context.Background())
	entered := make(chan struct{})
	release := make(chan struct{})
	sends := make(chan struct{}, 10)
	send := func(context.Context) error {
		sends <- struct{}{}
		entered <- struct{}{}
		<-release
		return nil
	}
	w.kickAsync(send)
	<-entered // the first send is on its way
	for range 5 {
		w.kickAsync(send)
	}
	release <- struct{}{}
	<-entered // the one folded send
	release <- struct{}{}
	w.Stop() // waits for the sender
	if got := len(sends); got != 2 {
		t.Fatalf("%d sends for a kick and a burst of 5 during it, want 2", got)
	}
	w.kickAsync(send)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.kicking {
		t.Fatal("a kick after Stop started a send")
	}
}
