package app

import (
	"testing"
	"time"
)

// Publish wakes the watchers of one task; PublishAll wakes every watcher.
func TestHub_Publish(t *testing.T) {
	t.Parallel()
	h := NewHub()
	a1, stopA1 := h.Subscribe("a")
	defer stopA1()
	a2, stopA2 := h.Subscribe("a")
	defer stopA2()
	b, stopB := h.Subscribe("b")
	defer stopB()

	h.Publish("a")
	h.Publish("a") // a second wake-up before the first is read is folded into it
	for _, ch := range []<-chan struct{}{a1, a2} {
		if !woken(ch) {
			t.Fatal("a watcher of a was not woken")
		}
		if woken(ch) {
			t.Fatal("two wake-ups queued; want them folded into one")
		}
	}
	if woken(b) {
		t.Fatal("a watcher of b was woken by a change of a")
	}

	h.PublishAll()
	for _, ch := range []<-chan struct{}{a1, a2, b} {
		if !woken(ch) {
			t.Fatal("PublishAll missed a watcher")
		}
	}

	stopB()
	h.PublishAll()
	if woken(b) {
		t.Fatal("a stopped watcher was woken")
	}
}

func TestHub_RecheckInterval(t *testing.T) {
	t.Parallel()
	if got := NewHub().RecheckInterval(); got != DefaultRecheck {
		t.Errorf("default %s, want %s", got, DefaultRecheck)
	}
	h := NewHub()
	h.Recheck = time.Hour
	if got := h.RecheckInterval(); got != time.Hour {
		t.Errorf("set %s, want 1h", got)
	}
}

func woken(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
