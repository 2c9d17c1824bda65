package publishers

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"time"

	"github.com/nudgehq/nudge/internal/subject"
)

// SpecVersion is the only CloudEvents version nudge accepts.
const SpecVersion = "1.0"

// ContentTypeJSON is the only data content type nudge accepts.
const ContentTypeJSON = "application/json"

// Event is a CloudEvents 1.0 envelope in structured-mode JSON.
//
// ID is the producer's idempotency key: sending the same ID again is safe and
// is recorded once (see the package documentation). Time orders events for the
// same entity, so nudge requires it even though CloudEvents does not.
type Event struct {
	SpecVersion     string          `json:"specversion"`               // must be "1.0"
	ID              string          `json:"id"`                        // idempotency key, 1..200 printable chars, no whitespace
	Source          string          `json:"source"`                    // URI-reference naming the producer, e.g. "/booking"
	Type            string          `json:"type"`                      // one of the Type* constants
	Time            time.Time       `json:"time"`                      // when it happened; RFC 3339 on the wire
	DataContentType string          `json:"datacontenttype,omitempty"` // absent or "application/json"
	Subject         string          `json:"subject,omitempty"`         // optional CloudEvents subject
	Data            json.RawMessage `json:"data"`                      // a JSON object, shaped by Type

	// Extensions holds CloudEvents extension attributes (lowercase
	// alphanumeric names such as "traceparent") with their raw JSON values,
	// which must be strings, numbers or booleans. They travel with the event
	// but nudge does not interpret them.
	Extensions map[string]json.RawMessage `json:"-"`
}

// Event types producers submit (the intake catalogue).
const (
	TypeClientUpserted        = "client.upserted"
	TypeConsentGranted        = "consent.granted"
	TypeConsentRevoked        = "consent.revoked"
	TypeSessionBooked         = "session.booked"
	TypeSessionRescheduled    = "session.rescheduled"
	TypeSessionCancelled      = "session.cancelled"
	TypeJournalDayMissed      = "journal.day_missed"
	TypeGroupUpserted         = "group.upserted"
	TypeGroupMemberAdded      = "group.member_added"
	TypeGroupMemberRemoved    = "group.member_removed"
	TypeAnnouncementRequested = "announcement.requested"
	TypeClientCarePaused      = "client.care_paused"
	TypeClientCareResumed     = "client.care_resumed"
	// TypeEncouragementScheduleSet sets when a client's encouragement
	// texts go; TypeJournalEntryWritten cancels a waiting journal nudge.
	TypeEncouragementScheduleSet = "encouragement.schedule_set"
	TypeJournalEntryWritten      = "journal.entry_written"
)

// Event types nudge emits for other systems. [Event.Validate], [Parse] and
// [Publisher.Publish] reject them (code "not_accepted") so no producer can
// impersonate nudge; nudge itself uses [Event.ValidateEmitted],
// [ParseEmitted] and [Publisher.PublishEmitted].
const (
	TypeSessionConfirmed           = "session.confirmed"
	TypeSessionRescheduleRequested = "session.reschedule_requested"
	TypeDeliveryStatusChanged      = "delivery.status_changed"
	TypeClientOptedOut             = "client.opted_out"
	TypeSafetyCrisisReply          = "safety.crisis_reply"
)

// SubjectPrefix is the NATS subject under which all events travel; a stream
// capturing SubjectPrefix + ".>" sees every event.
const SubjectPrefix = subject.EventsPrefix

// Subject returns the NATS subject for an event type, e.g.
// "nudge.events.session.booked". Consumers filter on it, so each type gets its
// own subject rather than sharing one.
func Subject(eventType string) string { return subject.Event(eventType) }

// IntakeTypes returns the event types producers may submit, sorted.
func IntakeTypes() []string { return catalogueTypes(false) }

// EmittedTypes returns the event types nudge emits, sorted.
func EmittedTypes() []string { return catalogueTypes(true) }

func catalogueTypes(emitted bool) []string {
	var out []string
	for typ, entry := range catalogue {
		if entry.emitted == emitted {
			out = append(out, typ)
		}
	}
	slices.Sort(out)
	return out
}

// NewEvent builds a complete event: a random id, the current UTC time,
// datacontenttype application/json and data marshaled with encoding/json
// (pass a json.RawMessage for data that is already JSON). It then validates
// the event and returns it together with any *ValidationError, so the caller
// can log what was built.
//
// Emitted types (nudge's own events) are validated with
// [Event.ValidateEmitted], all others with [Event.Validate]; the intake gates
// still refuse emitted types.
func NewEvent(typ, source string, data any) (Event, error) {
	e := Event{
		SpecVersion:     SpecVersion,
		ID:              NewID(),
		Source:          source,
		Type:            typ,
		Time:            time.Now().UTC(),
		DataContentType: ContentTypeJSON,
	}
	if err := checkDataType(typ, data); err != nil {
		return e, err
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return e, fmt.Errorf("marshaling %s data: %w", typ, err)
	}
	e.Data = raw
	if entry, ok := catalogue[typ]; ok && entry.emitted {
		return e, e.ValidateEmitted()
	}
	return e, e.Validate()
}

// NewID returns a fresh random event id (26 base32 characters, 130 bits of
// randomness): unique enough never to collide within a source.
func NewID() string { return rand.Text() }

// checkDataType catches the easy mistake of passing, say, a ClientUpserted
// for a session.booked event. Field-level validation would also fail, but with
// a confusing list of unknown fields instead of the real cause.
func checkDataType(typ string, data any) error {
	entry, ok := catalogue[typ]
	if !ok || data == nil {
		return nil
	}
	got := reflect.TypeOf(data)
	for got.Kind() == reflect.Pointer {
		got = got.Elem()
	}
	if got == entry.dataType || !isCatalogueDataType(got) {
		return nil
	}
	var p problems
	p.add("data", CodeInvalidType, fmt.Sprintf("%s does not fit %s, which carries %s", got, typ, entry.dataType))
	return p.err()
}

// isCatalogueDataType reports whether t is the data struct of some type.
// Only those are checked: a map or json.RawMessage is left to validation.
func isCatalogueDataType(t reflect.Type) bool {
	for _, entry := range catalogue {
		if entry.dataType == t {
			return true
		}
	}
	return false
}

// WithID returns a copy of e with the given id, for producers that derive
// the idempotency key from their own records (e.g. "booking-123-v4") so a
// retry after a crash reuses it.
func (e Event) WithID(id string) Event {
	e.ID = id
	return e
}

// WithTime returns a copy of e with the given time, typically when the change
// happened in the producer's system rather than when the event was built.
func (e Event) WithTime(t time.Time) Event {
	e.Time = t
	return e
}

// MarshalJSON writes the structured-mode envelope, with any extension
// attributes appended as top-level members as CloudEvents requires.
func (e Event) MarshalJSON() ([]byte, error) {
	type envelope Event // same fields, no MarshalJSON: avoids recursion
	b, err := json.Marshal(envelope(e))
	if err != nil || len(e.Extensions) == 0 {
		return b, err
	}
	names := make([]string, 0, len(e.Extensions))
	for name := range e.Extensions {
		names = append(names, name)
	}
	slices.Sort(names) // deterministic bytes for identical events
	var buf bytes.Buffer
	buf.Write(b[:len(b)-1]) // drop the closing brace
	for _, name := range names {
		if _, std := envelopeAttributes[name]; std {
			return nil, fmt.Errorf("extension %q collides with a CloudEvents attribute", name)
		}
		value := e.Extensions[name]
		if !json.Valid(value) {
			return nil, fmt.Errorf("extension %q: value is not valid JSON", name)
		}
		key, _ := json.Marshal(name)
		buf.WriteByte(',')
		buf.Write(key)
		buf.WriteByte(':')
		if err := json.Compact(&buf, value); err != nil {
			return nil, fmt.Errorf("extension %q: %w", name, err)
		}
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}
