package storetest

import (
	"testing"

	"github.com/nudgehq/nudge/internal/store"
)

func testSessionConfirmations(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, err := s.GetSessionConfirmation(ctx, "S1")
	wantErr(t, "no answer", err, store.ErrNotFound)

	ok, err := s.RecordSessionConfirmation(ctx, store.SessionConfirmation{SessionID: "S1", State: store.ConfirmationConfirmed, At: at(10), MessageID: "SM1"})
	noErr(t, "confirm", err)
	wantEqual(t, "recorded", ok, true)
	ok, err = s.RecordSessionConfirmation(ctx, store.SessionConfirmation{SessionID: "S1", State: store.ConfirmationRescheduleRequested, At: at(5), MessageID: "SM0"})
	noErr(t, "older R", err)
	wantEqual(t, "an older reply does not win", ok, false)
	c, err := s.GetSessionConfirmation(ctx, "S1")
	noErr(t, "get", err)
	wantEqual(t, "state", c.State, store.ConfirmationConfirmed)
	wantTime(t, "at", c.At, at(10))
	wantEqual(t, "message", c.MessageID, "SM1")

	ok, err = s.RecordSessionConfirmation(ctx, store.SessionConfirmation{SessionID: "S1", State: store.ConfirmationRescheduleRequested, At: at(20), MessageID: "SM2"})
	noErr(t, "newer R", err)
	wantEqual(t, "a newer reply wins", ok, true)
	c, _ = s.GetSessionConfirmation(ctx, "S1")
	wantEqual(t, "state after R", c.State, store.ConfirmationRescheduleRequested)

	_, err = s.RecordSessionConfirmation(ctx, store.SessionConfirmation{SessionID: "S1", State: "maybe", At: at(30)})
	wantErr(t, "unknown state", err, store.ErrInvalid)
	_, err = s.RecordSessionConfirmation(ctx, store.SessionConfirmation{State: store.ConfirmationConfirmed, At: at(30)})
	wantErr(t, "no session", err, store.ErrInvalid)
}
