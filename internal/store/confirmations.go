package store

import (
	"context"
	"time"
)

// Confirmation states a client's reply puts a session in.
const (
	ConfirmationConfirmed           = "confirmed"            // the client replied C
	ConfirmationRescheduleRequested = "reschedule_requested" // the client replied R
)

// SessionConfirmation is the client's latest answer about a session.
type SessionConfirmation struct {
	SessionID string
	State     string    // ConfirmationConfirmed or ConfirmationRescheduleRequested
	At        time.Time // when the reply arrived
	MessageID string    // the inbound message that said it
}

// SessionConfirmations records C and R replies on their session.
type SessionConfirmations interface {
	// RecordSessionConfirmation keeps c unless a later reply is recorded
	// for the session (replies can be processed out of order; of two at
	// the same time the one recorded last wins); it reports whether c is
	// now the session's answer.
	RecordSessionConfirmation(ctx context.Context, c SessionConfirmation) (bool, error)
	// GetSessionConfirmation returns ErrNotFound when the client has not
	// answered.
	GetSessionConfirmation(ctx context.Context, sessionID string) (SessionConfirmation, error)
}
