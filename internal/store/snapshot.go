package store

import (
	"context"

	"github.com/nudgehq/nudge/internal/vocab"
)

// Snapshot is what the deliverer's checks read about one client, taken in
// one round trip (Store.ReadSnapshot) instead of one query per check. A
// store given a context carrying it (WithSnapshot) answers GetClient,
// ConsentLedger (and the consent reads built on it), GetCarePause and
// IsSuppressed for that client from it; anything it does not cover is read
// as usual. The rules that use these reads stay where they are, once.
//
// Only the deliverer's checks run under a snapshot, and only for the one
// decision it was taken for: a view a few milliseconds old is what reading
// the rows one after another would have given.
type Snapshot struct {
	Client Client
	Ledger []ConsentEntry // the client's consent ledger, in Seq order
	Pause  CarePause
	Paused bool // the client has a care pause row (Pause)
	// Channel and Suppressed: the suppression state on Channel of each
	// address the read looked up, by the exact (normalised) address.
	Channel    vocab.Channel
	Suppressed map[string]bool
}

// SnapshotRequest is one ReadSnapshot call's arguments.
type SnapshotRequest struct {
	ClientID string
	Channel  vocab.Channel
	To       string
}

type snapshotKey struct{}

// WithSnapshot returns ctx carrying s.
func WithSnapshot(ctx context.Context, s *Snapshot) context.Context {
	return context.WithValue(ctx, snapshotKey{}, s)
}

// SnapshotFor returns the snapshot ctx carries for clientID, or nil.
func SnapshotFor(ctx context.Context, clientID string) *Snapshot {
	s, _ := ctx.Value(snapshotKey{}).(*Snapshot)
	if s == nil || clientID == "" || s.Client.ID != clientID {
		return nil
	}
	return s
}

// SnapshotIn returns the snapshot ctx carries, whoever it is for, or nil.
// Its suppression answers hold for their addresses whichever client asks.
func SnapshotIn(ctx context.Context) *Snapshot {
	s, _ := ctx.Value(snapshotKey{}).(*Snapshot)
	return s
}

// SuppressedAt answers IsSuppressed from the snapshot: known is false when
// the snapshot did not look up that channel and (normalised) address.
func (s *Snapshot) SuppressedAt(channel vocab.Channel, key string) (suppressed, known bool) {
	if s == nil || channel != s.Channel {
		return false, false
	}
	suppressed, known = s.Suppressed[key]
	return suppressed, known
}
