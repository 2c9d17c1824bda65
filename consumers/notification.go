package consumers

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nudgehq/nudge/internal/subject"
	"github.com/nudgehq/nudge/internal/vocab"
)

// Notification is one due message on NUDGE_NOTIFY: the decision that
// something should reach a client, before the checks that may still stop it
// (consent, suppression, freshness, quiet hours, cadence) and the send.
type Notification struct {
	// Key is the idempotency key of the logical notification, e.g.
	// "reminder:S1:v2:48h:sms". The deliveries ledger holds one row per key:
	// a key is sent at most once, whatever is redelivered or repeated.
	Key      string        `json:"key"`
	ClientID string        `json:"client_id,omitempty"`
	Channel  vocab.Channel `json:"channel"`
	Purpose  vocab.Purpose `json:"purpose"`
	// Kind is the template kind: reminder, encouragement, help, crisis …
	Kind string `json:"kind"`
	// Vars are the template variables beyond the ones the deliverer adds
	// (FirstName, PracticeName, OptOutLine, EmergencyFooter …).
	Vars map[string]any `json:"vars,omitempty"`
	// To overrides the client's address: replies to an inbound number that
	// belongs to no known client.
	To string `json:"to,omitempty"`
	// Locale for replies without a client; otherwise the client's locale.
	Locale string `json:"locale,omitempty"`
	// SessionID and SessionVersion tie a reminder to the session state it
	// was decided for; a different version at send time means it is stale.
	SessionID      string    `json:"session_id,omitempty"`
	SessionVersion int       `json:"session_version,omitempty"`
	SessionStarts  time.Time `json:"session_starts,omitzero"`
	// NotAfter is the expiry: past it the notification is skipped, never
	// sent late (a reminder after a long outage).
	NotAfter time.Time `json:"not_after,omitzero"`
	// Urgent notifications ignore quiet hours and cadence (crisis help,
	// opt-out confirmations).
	Urgent bool `json:"urgent,omitempty"`
	// AnnouncementID ties a staff announcement's message to it: a
	// cancelled announcement's messages are skipped.
	AnnouncementID string `json:"announcement_id,omitempty"`
	// Priority notifications go ahead of every routine send (crisis help,
	// invariant 9 in docs/invariants.md): they travel on their own subject, taken by their own
	// consumer, and jump the pacer's queue.
	Priority bool `json:"priority,omitempty"`
}

// Subject is where n is due: nudge.priority.<channel> for a priority
// notification, nudge.notify.<channel> for every other.
func (n Notification) Subject() string {
	if n.Priority {
		return subject.Priority(n.Channel)
	}
	return subject.Notify(n.Channel)
}

// Validate checks the fields every notification needs.
func (n Notification) Validate() error {
	var errs []error
	if n.Key == "" {
		errs = append(errs, errors.New("key is required"))
	}
	if !n.Channel.Valid() {
		errs = append(errs, fmt.Errorf("channel %q is not sms or email", n.Channel))
	}
	if n.Kind == "" {
		errs = append(errs, errors.New("kind is required"))
	}
	if !n.Purpose.Valid() {
		errs = append(errs, fmt.Errorf("purpose %q is not one nudge knows", n.Purpose))
	}
	if n.ClientID == "" && n.To == "" {
		errs = append(errs, errors.New("client_id or to is required"))
	}
	return errors.Join(errs...)
}

// Marshal encodes n for the bus.
func (n Notification) Marshal() ([]byte, error) { return json.Marshal(n) }

// DecodeNotification parses and validates a bus message.
func DecodeNotification(b []byte) (Notification, error) {
	var n Notification
	if err := json.Unmarshal(b, &n); err != nil {
		return n, fmt.Errorf("decoding notification: %w", err)
	}
	if err := n.Validate(); err != nil {
		return n, fmt.Errorf("invalid notification %q: %w", n.Key, err)
	}
	return n, nil
}
