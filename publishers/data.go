package publishers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"time"

	"github.com/nudgehq/nudge/internal/vocab"
)

// Channel and Purpose are nudge's own vocabulary (defined once, in
// internal/vocab), named here for producers.
type (
	Channel = vocab.Channel
	Purpose = vocab.Purpose
)

// Channels and purposes a producer may name in event data.
const (
	ChannelSMS   = vocab.SMS
	ChannelEmail = vocab.Email

	PurposeReminders     = vocab.Reminders
	PurposeEncouragement = vocab.Encouragement
	PurposeJournal       = vocab.Journal
	PurposeAnnouncements = vocab.Announcements
)

// Other enumerations used in event data.
const (
	CareScopeNonEssential = "non_essential" // encouragement, journal nudges, announcements
	CareScopeAll          = "all"           // and appointment reminders too

	LocationInPerson   = "in_person"
	LocationTelehealth = "telehealth"

	DeliveryPending     = "pending"
	DeliverySending     = "sending"
	DeliverySent        = "sent"
	DeliveryDelivered   = "delivered"
	DeliveryFailed      = "failed"
	DeliverySkipped     = "skipped"
	DeliveryUndelivered = "undelivered"
)

// ---- Intake data: what producers send. Field names are the catalogue's. ----

// ClientUpserted is the data of client.upserted: the full current state of a
// client as the practice's system knows it.
type ClientUpserted struct {
	ClientID         string  `json:"client_id"`
	FirstName        string  `json:"first_name"`       // the only name nudge ever puts in a message
	Timezone         string  `json:"timezone"`         // IANA, e.g. "America/Chicago"; drives quiet hours
	Phone            string  `json:"phone,omitempty"`  // E.164, e.g. "+14155550123"
	Email            string  `json:"email,omitempty"`  // bare address, no display name
	Locale           string  `json:"locale,omitempty"` // BCP 47-like, e.g. "en-US"
	PreferredChannel Channel `json:"preferred_channel,omitempty"`
}

// ConsentChanged is the data of consent.granted and consent.revoked: one
// entry in the append-only consent ledger.
type ConsentChanged struct {
	ClientID       string  `json:"client_id"`
	Channel        Channel `json:"channel"` // "sms" or "email"
	Purpose        Purpose `json:"purpose"` // reminders, encouragement, journal, announcements
	Source         string  `json:"source"`  // where consent was captured or withdrawn, e.g. "intake_form"
	WordingVersion string  `json:"wording_version,omitempty"`
}

// SessionBooked is the data of session.booked.
type SessionBooked struct {
	SessionID            string    `json:"session_id"`
	ClientID             string    `json:"client_id"`
	StartsAt             time.Time `json:"starts_at"` // RFC 3339 with an explicit offset
	DurationMin          int       `json:"duration_min,omitempty"`
	ClinicianDisplayName string    `json:"clinician_display_name,omitempty"`
	LocationKind         string    `json:"location_kind,omitempty"` // "in_person" or "telehealth"
}

// SessionRescheduled is the data of session.rescheduled.
type SessionRescheduled struct {
	SessionID string    `json:"session_id"`
	StartsAt  time.Time `json:"starts_at"`
}

// SessionCancelled is the data of session.cancelled.
type SessionCancelled struct {
	SessionID string `json:"session_id"`
	Reason    string `json:"reason,omitempty"` // for staff; never shown to the client
}

// JournalDayMissed is the data of journal.day_missed.
type JournalDayMissed struct {
	ClientID        string `json:"client_id"`
	Date            string `json:"date"` // the client's local calendar day, YYYY-MM-DD
	MissedDaysInRow int    `json:"missed_days_in_row,omitempty"`
}

// JournalEntryWritten is the data of journal.entry_written: the client
// wrote in their journal on Date; a journal nudge still waiting for them is
// withdrawn.
type JournalEntryWritten struct {
	ClientID string `json:"client_id"`
	Date     string `json:"date"` // the client's local calendar day, YYYY-MM-DD
}

// EncouragementScheduleSet is the data of encouragement.schedule_set: when
// the client's encouragement texts go, on the client's own clock. Give
// either Days and At ("mon,thu at 10:00") or Cron, a 6-field cron
// expression with seconds first as the NATS server reads it
// ("0 0 10 * * mon,thu"). Themes narrows the rotation of lines to some of
// the seven themes (templates.Themes).
type EncouragementScheduleSet struct {
	ClientID string   `json:"client_id"`
	Days     []string `json:"days,omitempty"` // mon, tue, wed, thu, fri, sat, sun
	At       string   `json:"at,omitempty"`   // HH:MM, 24-hour, client-local
	Cron     string   `json:"cron,omitempty"`
	Themes   []string `json:"themes,omitempty"`
}

// CarePaused is the data of client.care_paused: a clinician pauses
// messages to one client. Scope non_essential (the default) pauses
// encouragement, journal nudges and announcements; all pauses reminders
// too. Crisis replies and opt-out confirmations always go. Without Until
// the pause lasts until client.care_resumed.
type CarePaused struct {
	ClientID    string    `json:"client_id"`
	Scope       string    `json:"scope,omitempty"` // "non_essential" (default) or "all"
	Until       time.Time `json:"until,omitzero"`  // RFC 3339 with an offset; the pause ends by itself then
	RequestedBy string    `json:"requested_by"`    // the staff member, for the record
}

// CareResumed is the data of client.care_resumed: the pause ends now.
type CareResumed struct {
	ClientID    string `json:"client_id"`
	RequestedBy string `json:"requested_by"`
}

// GroupUpserted is the data of group.upserted: a support group's name, as
// staff see it (never shown to clients).
type GroupUpserted struct {
	GroupID string `json:"group_id"`
	Name    string `json:"name"`
}

// GroupMembership is the data of group.member_added and group.member_removed.
type GroupMembership struct {
	GroupID  string `json:"group_id"`
	ClientID string `json:"client_id"`
}

// AnnouncementRequested is the data of announcement.requested. Exactly one of
// Template (a named, pre-approved template) and Body (free text written by
// staff) is set.
type AnnouncementRequested struct {
	AnnouncementID string    `json:"announcement_id"`
	GroupID        string    `json:"group_id"`
	Template       string    `json:"template,omitempty"`
	Body           string    `json:"body,omitempty"`
	RequestedBy    string    `json:"requested_by"`       // the staff member, for the audit log
	Channels       []Channel `json:"channels,omitempty"` // restricts channels; absent means each member's preferred one
	// Urgent sends outside quiet hours and past cadence caps; it needs
	// UrgentReason, which is audited.
	Urgent       bool   `json:"urgent,omitempty"`
	UrgentReason string `json:"urgent_reason,omitempty"`
	// LintOverrideReason sends a body the template lint refuses (an
	// admin's decision, audited). Without it such a body is refused.
	LintOverrideReason string `json:"lint_override_reason,omitempty"`
}

// ---- Emitted data: what nudge publishes for other systems. ----
// These carry ids, never phone numbers, emails or message text (invariant 8 in docs/invariants.md).

// SessionConfirmed is the data of session.confirmed: the client replied C.
type SessionConfirmed struct {
	SessionID   string    `json:"session_id"`
	ClientID    string    `json:"client_id"`
	Channel     Channel   `json:"channel"`
	ConfirmedAt time.Time `json:"confirmed_at"`
}

// SessionRescheduleRequested is the data of session.reschedule_requested:
// the client replied R.
type SessionRescheduleRequested struct {
	SessionID   string    `json:"session_id"`
	ClientID    string    `json:"client_id"`
	Channel     Channel   `json:"channel"`
	RequestedAt time.Time `json:"requested_at"`
}

// DeliveryStatusChanged is the data of delivery.status_changed: a delivery
// in the ledger moved to a new state (see the Delivery* constants).
type DeliveryStatusChanged struct {
	DeliveryID     string    `json:"delivery_id"`
	ClientID       string    `json:"client_id"`
	Channel        Channel   `json:"channel"`
	Purpose        Purpose   `json:"purpose"`
	Status         string    `json:"status"`
	Reason         string    `json:"reason,omitempty"`      // why skipped or failed
	ProviderID     string    `json:"provider_id,omitempty"` // Twilio SID or SendGrid message id
	SessionID      string    `json:"session_id,omitempty"`
	AnnouncementID string    `json:"announcement_id,omitempty"` // lets the console show fan-out progress
	OccurredAt     time.Time `json:"occurred_at"`
}

// ClientOptedOut is the data of client.opted_out: nothing more goes to the
// client on Channel (invariant 2 in docs/invariants.md).
type ClientOptedOut struct {
	ClientID   string    `json:"client_id"`
	Channel    Channel   `json:"channel"`
	Source     string    `json:"source"`            // e.g. "sms_keyword", "twilio_21610", "sendgrid_unsubscribe"
	Keyword    string    `json:"keyword,omitempty"` // e.g. "STOP", when a keyword triggered it
	OccurredAt time.Time `json:"occurred_at"`
}

// SafetyCrisisReply is the data of safety.crisis_reply, a staff alert. The
// reply's text is deliberately absent: staff read it in the console, behind
// authentication, by InboundMessageID.
type SafetyCrisisReply struct {
	ClientID         string    `json:"client_id"`
	Channel          Channel   `json:"channel"`
	InboundMessageID string    `json:"inbound_message_id"`
	ReceivedAt       time.Time `json:"received_at"`
	AutoReplySent    bool      `json:"auto_reply_sent,omitempty"`
}

// catalogueEntry ties an event type to its data struct and data rules.
type catalogueEntry struct {
	dataType reflect.Type
	decode   func(json.RawMessage) (any, error)
	validate func(*dataReader)
	emitted  bool
}

func intake[T any](validate func(*dataReader)) catalogueEntry {
	return catalogueEntry{dataType: reflect.TypeFor[T](), decode: decodeStrict[T], validate: validate}
}

func emitted[T any](validate func(*dataReader)) catalogueEntry {
	e := intake[T](validate)
	e.emitted = true
	return e
}

// catalogue is the single source of truth for event types. The validators
// live in rules.go.
var catalogue = map[string]catalogueEntry{
	TypeClientUpserted:           intake[ClientUpserted](validateClientUpserted),
	TypeConsentGranted:           intake[ConsentChanged](validateConsentChanged),
	TypeConsentRevoked:           intake[ConsentChanged](validateConsentChanged),
	TypeSessionBooked:            intake[SessionBooked](validateSessionBooked),
	TypeSessionRescheduled:       intake[SessionRescheduled](validateSessionRescheduled),
	TypeSessionCancelled:         intake[SessionCancelled](validateSessionCancelled),
	TypeJournalDayMissed:         intake[JournalDayMissed](validateJournalDayMissed),
	TypeGroupUpserted:            intake[GroupUpserted](validateGroupUpserted),
	TypeGroupMemberAdded:         intake[GroupMembership](validateGroupMembership),
	TypeGroupMemberRemoved:       intake[GroupMembership](validateGroupMembership),
	TypeAnnouncementRequested:    intake[AnnouncementRequested](validateAnnouncementRequested),
	TypeClientCarePaused:         intake[CarePaused](validateCarePaused),
	TypeClientCareResumed:        intake[CareResumed](validateCareResumed),
	TypeJournalEntryWritten:      intake[JournalEntryWritten](validateJournalEntryWritten),
	TypeEncouragementScheduleSet: intake[EncouragementScheduleSet](validateEncouragementScheduleSet),

	TypeSessionConfirmed:           emitted[SessionConfirmed](validateSessionConfirmed),
	TypeSessionRescheduleRequested: emitted[SessionRescheduleRequested](validateSessionRescheduleRequested),
	TypeDeliveryStatusChanged:      emitted[DeliveryStatusChanged](validateDeliveryStatusChanged),
	TypeClientOptedOut:             emitted[ClientOptedOut](validateClientOptedOut),
	TypeSafetyCrisisReply:          emitted[SafetyCrisisReply](validateSafetyCrisisReply),
}

// DecodeData returns e.Data decoded into the struct for e.Type, as a value
// (e.g. SessionBooked, not *SessionBooked), ready for a type switch. It
// rejects unknown fields but does not run the full validation: events read
// from the stream were validated on the way in; call Validate first for
// anything else. With a known type, [DataAs] is more convenient.
func (e Event) DecodeData() (any, error) {
	entry, ok := catalogue[e.Type]
	if !ok {
		return nil, fmt.Errorf("decoding data: unknown event type %q", e.Type)
	}
	v, err := entry.decode(e.Data)
	if err != nil {
		return nil, fmt.Errorf("decoding %s data: %w", e.Type, err)
	}
	return v, nil
}

// DataAs decodes e.Data into T, failing when T is not the data struct of
// e.Type:
//
//	booked, err := publishers.DataAs[publishers.SessionBooked](e)
func DataAs[T any](e Event) (T, error) {
	var zero T
	entry, ok := catalogue[e.Type]
	if !ok {
		return zero, fmt.Errorf("decoding data: unknown event type %q", e.Type)
	}
	if want := reflect.TypeFor[T](); entry.dataType != want {
		return zero, fmt.Errorf("decoding %s data: it decodes into %s, not %s", e.Type, entry.dataType, want)
	}
	v, err := decodeStrict[T](e.Data)
	if err != nil {
		return zero, fmt.Errorf("decoding %s data: %w", e.Type, err)
	}
	return v.(T), nil
}

// decodeStrict decodes exactly one JSON value into a T, rejecting unknown
// fields so a misspelled field is an error rather than silently ignored.
func decodeStrict[T any](raw json.RawMessage) (any, error) {
	var v T
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("unexpected data after the JSON object")
	}
	return v, nil
}
