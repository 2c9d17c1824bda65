package store

import (
	"context"
	"time"
)

// Care pause scopes: what a clinician's pause holds back.
const (
	// CareScopeNonEssential pauses encouragement, journal nudges and
	// announcements; appointment reminders still go.
	CareScopeNonEssential = "non_essential"
	// CareScopeAll pauses reminders too. Crisis replies and opt-out
	// confirmations always go, whatever the scope.
	CareScopeAll = "all"
)

// CarePause is a clinician's pause of messages to one client.
type CarePause struct {
	ClientID    string
	Scope       string    // CareScopeNonEssential or CareScopeAll
	Until       time.Time // the pause ends by itself then; zero: until resumed
	RequestedBy string
	Since       time.Time // time of the event that paused
	// Active is false once the pause was resumed (ResumedBy says by whom).
	// A pause past Until is over even while Active; see InForce.
	Active    bool
	ResumedBy string
	UpdatedAt time.Time // time of the event that last changed the row
}

// InForce reports whether the pause holds messages back at t.
func (p CarePause) InForce(t time.Time) bool {
	return p.Active && !t.Before(p.Since) && (p.Until.IsZero() || t.Before(p.Until))
}

// CarePauses keeps one pause per client, ordered by event time like every
// entity: an older pause or resume arriving late changes nothing
// (ReasonStale).
type CarePauses interface {
	// ApplyCarePause starts or replaces the client's pause. Pauses for
	// clients nudge has not seen yet are kept (the profile may follow).
	ApplyCarePause(ctx context.Context, ev EventRef, p CarePause) (Result, error)
	// ApplyCareResume ends the client's pause; without one it is
	// ReasonNoChange.
	ApplyCareResume(ctx context.Context, ev EventRef, clientID, requestedBy string) (Result, error)
	// GetCarePause returns the client's latest pause, resumed or not;
	// ErrNotFound when the client was never paused.
	GetCarePause(ctx context.Context, clientID string) (CarePause, error)
}
