package storetest

import (
	"bytes"
	"errors"
	"testing"

	"github.com/nudgehq/nudge/internal/store"
)

func testDeadLetters(t *testing.T, s store.Store) {
	ctx := t.Context()
	dl := store.DeadLetter{Stream: "NUDGE_NOTIFY", StreamSeq: 42, Consumer: "deliver", Subject: "nudge.notify.sms",
		Data: []byte(`{"key":"k1"}`), Deliveries: 12, Key: "k1", Reason: "twilio 503"}
	got, created, err := s.AddDeadLetter(ctx, dl)
	if err != nil || !created {
		t.Fatalf("AddDeadLetter = %v, %v; want created", created, err)
	}
	if got.ID == 0 || got.Key != "k1" || !bytes.Equal(got.Data, dl.Data) || got.Deliveries != 12 || got.StreamSeq != 42 || got.CreatedAt.IsZero() {
		t.Errorf("stored dead letter = %+v", got)
	}
	// The advisory seen twice (two processes): recorded once.
	again, created, err := s.AddDeadLetter(ctx, dl)
	if err != nil || created || again.ID != got.ID {
		t.Fatalf("second AddDeadLetter = %+v, %v, %v; want the same row, not created", again, created, err)
	}
	second, _, err := s.AddDeadLetter(ctx, store.DeadLetter{Stream: "NUDGE_EVENTS", StreamSeq: 42, Data: []byte("{}")})
	if err != nil || second.ID == got.ID {
		t.Fatalf("same seq on another stream: %+v, %v", second, err)
	}

	list, err := s.ListDeadLetters(ctx, true, 10)
	if err != nil || len(list) != 2 || list[0].ID != second.ID {
		t.Fatalf("ListDeadLetters = %v, %v; want 2, newest first", list, err)
	}
	r, err := s.MarkDeadLetterReplayed(ctx, got.ID, "staff:alice")
	if err != nil || r.ReplayedAt.IsZero() || r.ReplayedBy != "staff:alice" {
		t.Fatalf("MarkDeadLetterReplayed = %+v, %v", r, err)
	}
	if _, err := s.MarkDeadLetterReplayed(ctx, got.ID, "staff:bob"); !errors.Is(err, store.ErrConflict) {
		t.Errorf("second replay err = %v, want ErrConflict", err)
	}
	if _, err := s.MarkDeadLetterReplayed(ctx, 999999, "x"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("replay of unknown id err = %v, want ErrNotFound", err)
	}
	pending, _ := s.ListDeadLetters(ctx, true, 10)
	all, _ := s.ListDeadLetters(ctx, false, 10)
	if len(pending) != 1 || len(all) != 2 {
		t.Errorf("after replay: %d pending, %d in all; want 1 and 2", len(pending), len(all))
	}
	if _, err := s.GetDeadLetter(ctx, 999999); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetDeadLetter unknown err = %v", err)
	}
	if _, _, err := s.AddDeadLetter(ctx, store.DeadLetter{}); err == nil {
		t.Error("AddDeadLetter without a stream succeeded")
	}
}
