package inbound

import (
	"testing"

	"github.com/nudgehq/nudge/internal/store"
)

// A C or R reply is recorded on the session: the latest answer wins.
func TestInboundAnswerRecordedOnTheSession(t *testing.T) {
	e := anaWithReminders(t)
	e.text("SM1", anaPhone, "C")
	c, err := e.store.GetSessionConfirmation(t.Context(), "S1")
	if err != nil || c.State != store.ConfirmationConfirmed || c.MessageID != "SM1" {
		t.Fatalf("after C: %+v %v", c, err)
	}
	e.text("SM2", anaPhone, "R")
	c, err = e.store.GetSessionConfirmation(t.Context(), "S1")
	if err != nil || c.State != store.ConfirmationRescheduleRequested || c.MessageID != "SM2" {
		t.Fatalf("after R: %+v %v", c, err)
	}
}
