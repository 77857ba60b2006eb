package timing

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

func TestSleep(t *testing.T) {
	ctx := context.Background()
	began := time.Now()
	if !Sleep(ctx, 20*time.Millisecond) {
		t.Fatal("Sleep on a live context returned false")
	}
	if took := time.Since(began); took < 20*time.Millisecond {
		t.Fatalf("Sleep(20ms) returned after %s", took)
	}
	if !Sleep(ctx, 0) || !Sleep(ctx, -time.Second) {
		t.Fatal("Sleep(≤0) on a live context returned false")
	}

	done, cancel := context.WithCancel(ctx)
	cancel()
	began = time.Now()
	if Sleep(done, time.Hour) {
		t.Fatal("Sleep on an ended context returned true")
	}
	if took := time.Since(began); took > time.Second {
		t.Fatalf("Sleep on an ended context took %s", took)
	}
	if Sleep(done, 0) {
		t.Fatal("Sleep(0) on an ended context returned true")
	}
}

func TestEvery(t *testing.T) {
	var n atomic.Int64
	var last atomic.Int64
	stop := Every(5*time.Millisecond, func(now time.Time) {
		n.Add(1)
		last.Store(now.UnixNano())
	})
	deadline := time.Now().Add(5 * time.Second)
	for n.Load() < 3 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	stop()
	got := n.Load()
	if got < 3 || last.Load() == 0 {
		t.Fatalf("fn ran %d times, last at %d; want at least 3 ticks with their time", got, last.Load())
	}
	time.Sleep(20 * time.Millisecond)
	if n.Load() != got {
		t.Fatalf("fn ran after stop returned: %d calls, then %d", got, n.Load())
	}
}
