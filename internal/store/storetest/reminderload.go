package storetest

import (
	"maps"
	"testing"
	"time"

	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/vocab"
)

func testReminderLoad(t *testing.T, s store.Store) {
	ctx := t.Context()
	put := func(session string, fireMin int, channel vocab.Channel, state store.ReminderState) string {
		r := reminder(session, 1, 2*time.Hour, fireMin)
		r.Key, r.Channel, r.State = r.Key+":"+string(channel), channel, state
		upsertReminder(t, s, r)
		return r.Key
	}
	put("S1", 60, vocab.SMS, store.ReminderScheduled)
	again := put("S2", 60, vocab.SMS, store.ReminderScheduled)
	put("S3", 61, vocab.SMS, store.ReminderScheduled)
	put("S4", 60, vocab.Email, store.ReminderScheduled) // another channel
	put("S5", 60, vocab.SMS, store.ReminderCancelled)   // withdrawn
	put("S6", 62, vocab.SMS, store.ReminderScheduled)   // after the range
	put("S7", 59, vocab.SMS, store.ReminderSkipped)     // never scheduled

	got, err := s.ReminderLoad(ctx, vocab.SMS, at(59), at(61), "")
	noErr(t, "ReminderLoad", err)
	wantLoad(t, "load", got, map[int64]int{at(60).Unix(): 2, at(61).Unix(): 1})

	// The reminder being planned again does not count itself.
	got, err = s.ReminderLoad(ctx, vocab.SMS, at(60), at(60), again)
	noErr(t, "ReminderLoad except", err)
	wantLoad(t, "load without "+again, got, map[int64]int{at(60).Unix(): 1})

	got, err = s.ReminderLoad(ctx, vocab.Email, at(0), at(100), "")
	noErr(t, "ReminderLoad email", err)
	wantLoad(t, "email load", got, map[int64]int{at(60).Unix(): 1})

	// Seconds count apart.
	r := reminder("S8", 1, 2*time.Hour, 60)
	r.FireAt = r.FireAt.Add(time.Second)
	upsertReminder(t, s, r)
	got, err = s.ReminderLoad(ctx, vocab.SMS, at(60), at(60).Add(time.Second), "")
	noErr(t, "ReminderLoad by second", err)
	wantLoad(t, "load by second", got, map[int64]int{at(60).Unix(): 2, at(60).Unix() + 1: 1})

	if _, err := s.ReminderLoad(ctx, "fax", at(0), at(1), ""); err == nil {
		t.Error("ReminderLoad accepted channel fax")
	}
}

func wantLoad(t *testing.T, what string, got, want map[int64]int) {
	t.Helper()
	if !maps.Equal(got, want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}
