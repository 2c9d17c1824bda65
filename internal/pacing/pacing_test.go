package pacing

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nudgehq/nudge/internal/bus/bustest"
)

// TestSlotsSharedAcrossProcesses reserves slots concurrently from two
// pacers on separate connections: every slot is distinct and at least one
// interval after the previous one, so the rate holds for both together.
func TestSlotsSharedAcrossProcesses(t *testing.T) {
	ctx := context.Background()
	srv := bustest.Server(t)
	limits := Limits{"sms": 10}
	a, err := New(ctx, bustest.Connect(t, srv), limits, 1)
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(ctx, bustest.Connect(t, srv), limits, 1)
	if err != nil {
		t.Fatal(err)
	}
	iv := a.interval["sms"]
	var mu sync.Mutex
	var slots []time.Time
	var wg sync.WaitGroup
	for i := range 40 {
		p := a
		if i%2 == 1 {
			p = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := p.reserve(ctx, "sms", iv, 0, false)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			slots = append(slots, s)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if len(slots) != 40 {
		t.Fatalf("got %d slots, want 40", len(slots))
	}
	slices.SortFunc(slots, func(x, y time.Time) int { return x.Compare(y) })
	for i := 1; i < len(slots); i++ {
		if gap := slots[i].Sub(slots[i-1]); gap < iv {
			t.Fatalf("slots %d and %d are %v apart, want at least %v", i-1, i, gap, iv)
		}
	}
}

func TestPausePushesNextSlot(t *testing.T) {
	ctx := context.Background()
	p, err := New(ctx, bustest.Connect(t, bustest.Server(t)), Limits{"email": 100}, 1)
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	if err := p.Pause(ctx, "email", 30*time.Second); err != nil {
		t.Fatal(err)
	}
	slot, err := p.reserve(ctx, "email", p.interval["email"], 0, false)
	if err != nil {
		t.Fatal(err)
	}
	if slot.Before(before.Add(30 * time.Second)) {
		t.Fatalf("after a 30s pause the next slot is %v, want at least %v", slot, before.Add(30*time.Second))
	}
	// An unpaced key never waits and is never stored.
	if err := p.Wait(ctx, "unknown"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.kv.Get(ctx, "unknown"); err == nil {
		t.Error("an unpaced key was stored")
	}
}

// A priority call (crisis help) goes now, ahead of a backlog of routine
// reservations, and the routine line moves back one interval for it.
func TestWaitPriorityJumpsTheLine(t *testing.T) {
	ctx := context.Background()
	p, err := New(ctx, bustest.Connect(t, bustest.Server(t)), Limits{"sms": 1}, 1)
	if err != nil {
		t.Fatal(err)
	}
	var last time.Time
	for range 10 { // ten routine sends queued: the line reaches ~10 s ahead
		if last, err = p.reserve(ctx, "sms", time.Second, 0, false); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	if err := p.WaitPriority(ctx, "sms"); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited > time.Second {
		t.Fatalf("priority call waited %v behind the routine line", waited)
	}
	next, err := p.reserve(ctx, "sms", time.Second, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	if gap := next.Sub(last); gap < 2*time.Second {
		t.Fatalf("the next routine slot is %v after the last, want the priority call's interval in between", gap)
	}
}
