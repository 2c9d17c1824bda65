package store

import "time"

// DeadLetter is a message JetStream gave up on after its consumer's
// MaxDeliver attempts. nudge keeps it, with why, until staff replay it.
type DeadLetter struct {
	ID         int64  // assigned by the store
	Stream     string // e.g. "NUDGE_NOTIFY"
	StreamSeq  uint64 // the message's sequence in Stream; unique with Stream
	Consumer   string
	Subject    string
	Data       []byte
	Deliveries uint64 // how often it was delivered before giving up
	// Key is the notification key or event id the message carried, when
	// known: what staff search for.
	Key        string
	Reason     string // the last error seen, when known
	CreatedAt  time.Time
	ReplayedAt time.Time // zero until replayed
	ReplayedBy string
}
