// Package store is nudge's durable record: clients, the consent ledger,
// sessions, groups, the deliveries ledger, suppressions, the audit log and the
// record of every event nudge has applied.
//
// Two implementations satisfy [Store]: Postgres (package store/postgres, pgx
// pool) for production and an embedded pure-Go SQLite (package store/sqlite)
// for dev mode and single-machine installs. Both run the same conformance suite
// in package store/storetest.
//
// # Idempotency and ordering
//
// Every mutation that comes from an event takes an [EventRef]. The store
// records the event id in the same transaction as the change, so applying the
// same event twice changes nothing the second time ([ReasonDuplicate]). Each
// entity remembers the time of the event that last changed it; an event older
// than that is recorded but does not overwrite newer state ([ReasonStale]).
//
// All methods are safe for concurrent use.
package store

import (
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"time"

	"github.com/nudgehq/nudge/internal/vocab"
)

// Sentinel errors. Implementations wrap them; check with errors.Is.
var (
	// ErrNotFound is returned when the requested row does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict is returned when a write would violate a uniqueness rule
	// that the caller could not have known about (other than event replays,
	// which are reported through Result).
	ErrConflict = errors.New("store: conflict")
	// ErrInvalid is returned for arguments the store refuses (empty ids,
	// unknown enum values).
	ErrInvalid = errors.New("store: invalid argument")
)

// EventRef identifies the event that causes a mutation.
type EventRef struct {
	ID     string    // CloudEvents id: the producer's idempotency key
	Type   string    // CloudEvents type, e.g. "client.upserted"
	Source string    // CloudEvents source
	Time   time.Time // CloudEvents time: orders events for the same entity
}

// Reasons an event was recorded without changing state.
const (
	ReasonDuplicate      = "duplicate"       // this event id was applied before
	ReasonStale          = "stale"           // an event newer than this one already changed the entity
	ReasonUnknownClient  = "unknown_client"  // the event names a client nudge has never seen
	ReasonUnknownSession = "unknown_session" // the event names a session nudge has never seen
	ReasonCancelled      = "cancelled"       // the session was cancelled; cancellation is final
	ReasonNoChange       = "no_change"       // the event carried the state already stored
)

// Result says what applying an event did.
type Result struct {
	Applied bool   // state changed
	Reason  string // why not, when !Applied (one of the Reason constants)
}

// Client is a person who may receive messages.
type Client struct {
	ID               string
	FirstName        string
	Timezone         string        // IANA name
	Phone            string        // E.164, may be empty
	Email            string        // may be empty
	Locale           string        // BCP 47, e.g. "en", "es-MX"; may be empty
	PreferredChannel vocab.Channel // may be empty
	UpdatedAt        time.Time     // time of the event that last changed the row
	CreatedAt        time.Time     // when nudge first stored the client
}

// ConsentAction is what a consent ledger entry records.
type ConsentAction string

const (
	ConsentGranted ConsentAction = "granted"
	ConsentRevoked ConsentAction = "revoked"
)

// ConsentEntry is one append-only row of the consent ledger.
type ConsentEntry struct {
	Seq      int64 // assigned by the store, increasing
	ClientID string
	Channel  vocab.Channel
	Purpose  vocab.Purpose
	Action   ConsentAction
	// Address is the phone (E.164) or email (lower case) the entry is for.
	// A grant holds only for its address (see [CurrentConsent]); a grant
	// recorded with none is bound by the store to the client's address on
	// the channel. A revocation without an address holds for every address.
	Address        string
	Source         string // who or what recorded it: "booking-system", "sms:STOP", "twilio:21610", "staff:alice"
	WordingVersion string // the consent wording the client saw (grants)
	EventID        string // event or inbound message that caused it; unique when not empty
	OccurredAt     time.Time
	RecordedAt     time.Time // set by the store
}

// ConsentState is the current consent for one client, channel, purpose and
// address, by the rule of [CurrentConsent].
type ConsentState struct {
	Channel        vocab.Channel
	Purpose        vocab.Purpose
	Address        string
	Active         bool
	Source         string
	WordingVersion string
	Since          time.Time
}

// SessionStatus is a session's lifecycle state.
type SessionStatus string

const (
	SessionBooked    SessionStatus = "booked"
	SessionCancelled SessionStatus = "cancelled"
)

// Session is an appointment.
type Session struct {
	ID                   string
	ClientID             string
	StartsAt             time.Time
	DurationMin          int
	ClinicianDisplayName string
	LocationKind         string // "in_person", "telehealth" or empty
	Status               SessionStatus
	Version              int // 1 at booking, +1 on every reschedule that moves StartsAt
	CancelReason         string
	UpdatedAt            time.Time // time of the event that last changed the row
	CreatedAt            time.Time
}

// Membership links a client to a support group.
type Membership struct {
	GroupID   string
	ClientID  string
	Active    bool
	UpdatedAt time.Time
}

// DeliveryState is where a notification is on its way to the client.
// States only move forward; see [DeliveryStateRank].
type DeliveryState string

const (
	DeliveryPending     DeliveryState = "pending"     // decided, not yet handed to a provider
	DeliverySending     DeliveryState = "sending"     // recorded before the provider call
	DeliverySent        DeliveryState = "sent"        // provider accepted it
	DeliveryDelivered   DeliveryState = "delivered"   // provider reports delivery
	DeliveryFailed      DeliveryState = "failed"      // permanent failure; Reason says why
	DeliverySkipped     DeliveryState = "skipped"     // decided not to send; Reason says why
	DeliveryUndelivered DeliveryState = "undelivered" // provider reports it never arrived
)

// DeliveryStateRank orders states so that updates never move a delivery
// backwards. Terminal states share the highest rank.
func DeliveryStateRank(s DeliveryState) int {
	switch s {
	case DeliveryPending:
		return 0
	case DeliverySending:
		return 1
	case DeliverySent:
		return 2
	case DeliveryDelivered, DeliveryFailed, DeliverySkipped, DeliveryUndelivered:
		return 3
	}
	return -1
}

// Delivery is one row of the deliveries ledger: one logical notification on
// one channel. IdempotencyKey is unique: the same logical notification is
// recorded once, however often it is decided.
type Delivery struct {
	ID             string // opaque id, safe to hand to providers
	IdempotencyKey string // e.g. "reminder:S1:v2:48h:sms"
	ClientID       string // empty for a reply to a number no client has
	Channel        vocab.Channel
	Purpose        vocab.Purpose
	Template       string
	To             string // phone or email the message went to
	State          DeliveryState
	Reason         string // why skipped / failed
	ProviderID     string // Twilio SID or SendGrid message id
	SessionID      string
	SessionVersion int
	Attempts       int
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// NewDeliveryID returns an opaque id that is safe to hand to providers:
// "dlv_" and 20 base32 characters (100 random bits).
func NewDeliveryID() string {
	return "dlv_" + strings.ToLower(rand.Text()[:20])
}

// DeliveryUpdate moves a delivery forward. Empty fields are left unchanged.
type DeliveryUpdate struct {
	State      DeliveryState
	Reason     string
	ProviderID string
	Attempt    bool // increment Attempts
}

// DeliveryFilter selects ledger rows. Zero fields match everything.
type DeliveryFilter struct {
	ClientID  string
	SessionID string
	State     DeliveryState
	Limit     int // 0 means 100
}

// Suppression blocks an address on a channel regardless of consent
// (carrier opt-out, hard bounce, spam report).
type Suppression struct {
	Channel   vocab.Channel
	Address   string
	Reason    string
	CreatedAt time.Time
}

// AuditEntry records an API or staff action.
type AuditEntry struct {
	Seq    int64
	At     time.Time
	Actor  string // "api-token", "staff:alice", "system"
	Action string // "events.accepted", "client.paused", ...
	Target string
	Detail string // JSON or plain text; never message bodies or addresses in clear
}

// EventRecord is the store's record of an event it applied (or declined).
type EventRecord struct {
	ID        string
	Type      string
	Source    string
	Time      time.Time
	Applied   bool
	Reason    string
	AppliedAt time.Time
}

// Store is the durable record. Implementations must be safe for concurrent use.
type Store interface {
	CarePauses
	EventLookup
	StaffStore
	Announcements
	Encouragement
	ClientSearch
	Deferrals
	SessionConfirmations
	OptInRequests
	// ApplyClientUpsert creates or updates a client. An event older than the
	// client's UpdatedAt leaves the row as it is (ReasonStale).
	ApplyClientUpsert(ctx context.Context, ev EventRef, c Client) (Result, error)
	// GetClient returns ErrNotFound for unknown ids.
	GetClient(ctx context.Context, id string) (Client, error)
	// ReadSnapshot reads, in one round trip, the client, its consent
	// ledger, its care pause and whether to (or, when to is empty, the
	// client's address on channel) is suppressed on channel. Unknown
	// clients are ErrNotFound.
	ReadSnapshot(ctx context.Context, clientID string, channel vocab.Channel, to string) (*Snapshot, error)

	// AppendConsent appends to the consent ledger. Entries are never updated
	// or deleted. With a non-empty ev.ID a replay is ReasonDuplicate.
	// Entries for unknown clients are accepted (consent may arrive before the
	// client profile). A grant without an Address is bound to the client's
	// current address on the channel; when the client has none yet, it is
	// bound (by appending a copy) to the first address ApplyClientUpsert
	// gives the client. A revocation is always Applied (never stale); a
	// grant that does not activate consent (see CurrentConsent) is recorded
	// and reported as ReasonStale.
	AppendConsent(ctx context.Context, ev EventRef, e ConsentEntry) (Result, error)
	// Consents returns the current state per channel and purpose that has
	// a ledger entry counting for the client's current address on the
	// channel (entries only for an old address are left out), sorted by
	// channel then purpose.
	Consents(ctx context.Context, clientID string) ([]ConsentState, error)
	// ConsentLedger returns every entry for the client in the order they
	// were recorded (by Seq), the order CurrentConsent folds them in.
	ConsentLedger(ctx context.Context, clientID string) ([]ConsentEntry, error)
	// HasConsent reports whether consent for the triple is active for the
	// client's current address on the channel.
	HasConsent(ctx context.Context, clientID string, channel vocab.Channel, purpose vocab.Purpose) (bool, error)
	ConsentAddresses

	// ApplySessionBooked stores a new session at version 1. Booking a session
	// that exists is ReasonDuplicate (same id) or ReasonNoChange.
	ApplySessionBooked(ctx context.Context, ev EventRef, s Session) (Result, error)
	// ApplySessionRescheduled moves StartsAt and increments Version.
	ApplySessionRescheduled(ctx context.Context, ev EventRef, sessionID string, startsAt time.Time) (Result, error)
	// ApplySessionCancelled marks the session cancelled; cancellation is final.
	ApplySessionCancelled(ctx context.Context, ev EventRef, sessionID, reason string) (Result, error)
	GetSession(ctx context.Context, id string) (Session, error)
	// UpcomingSessions returns booked sessions of a client starting after t, soonest first.
	UpcomingSessions(ctx context.Context, clientID string, after time.Time) ([]Session, error)

	// ApplyGroupMembership adds (active=true) or removes a member.
	ApplyGroupMembership(ctx context.Context, ev EventRef, groupID, clientID string, active bool) (Result, error)
	// GroupMembers returns the active members' client ids, sorted.
	GroupMembers(ctx context.Context, groupID string) ([]string, error)

	// CreateDelivery inserts the row unless its IdempotencyKey exists; it
	// returns the stored row and whether this call created it.
	CreateDelivery(ctx context.Context, d Delivery) (Delivery, bool, error)
	// ClaimDelivery moves a pending or sending delivery to sending with
	// Attempts+1, only if its Attempts still equals attempts: of several
	// workers holding the same notification, exactly one claims each
	// attempt. It returns the row as it is after the call.
	ClaimDelivery(ctx context.Context, id string, attempts int) (Delivery, bool, error)
	// UpdateDelivery moves a delivery forward. An update whose state ranks
	// below the stored one changes nothing and returns the stored row.
	UpdateDelivery(ctx context.Context, id string, u DeliveryUpdate) (Delivery, error)
	GetDelivery(ctx context.Context, id string) (Delivery, error)
	GetDeliveryByKey(ctx context.Context, key string) (Delivery, error)
	GetDeliveryByProviderID(ctx context.Context, providerID string) (Delivery, error)
	// ListDeliveries returns matching rows, newest first.
	ListDeliveries(ctx context.Context, f DeliveryFilter) ([]Delivery, error)

	// Suppress adds or refreshes a suppression; idempotent.
	Suppress(ctx context.Context, s Suppression) error
	// Unsuppress removes one; removing a missing one is not an error.
	Unsuppress(ctx context.Context, channel vocab.Channel, address string) error
	IsSuppressed(ctx context.Context, channel vocab.Channel, address string) (bool, error)

	AppendAudit(ctx context.Context, e AuditEntry) error
	// ListAudit returns the newest entries first.
	ListAudit(ctx context.Context, limit int) ([]AuditEntry, error)

	// RecordEvent records an event that changes no entity here (for example
	// an event type another consumer acts on) with the given reason, so every
	// accepted event has a queryable outcome. A replay is ReasonDuplicate;
	// otherwise the Result is {Applied: false, Reason: reason}.
	// (Added by the lead while the stores were being written: implement it
	// in the shared implementation and cover it in the conformance suite.)
	RecordEvent(ctx context.Context, ev EventRef, reason string) (Result, error)

	// GetEvent returns the record of an applied event, ErrNotFound if nudge
	// has not applied it, and ErrConflict when several sources sent an
	// event with this id (use EventsByID).
	GetEvent(ctx context.Context, id string) (EventRecord, error)

	// ClientsByAddress returns the clients whose phone (channel sms, exact
	// E.164) or email (channel email, case-insensitive) is address, sorted
	// by id. Several clients may share a family phone or email.
	ClientsByAddress(ctx context.Context, channel vocab.Channel, address string) ([]Client, error)

	// RecordInbound stores an inbound message unless one with its ID
	// exists; created reports whether this call stored it. A replay
	// changes nothing. ReceivedAt defaults to now; ProcessedAt, Handled,
	// HandledBy and HandledAt are ignored (see FinishInbound and
	// ResolveInbound).
	RecordInbound(ctx context.Context, m InboundMessage) (created bool, err error)
	// FinishInbound marks the message processed: nudge has done everything
	// it does for it. Finishing twice keeps the first ProcessedAt.
	FinishInbound(ctx context.Context, id string) error
	// GetInbound returns ErrNotFound for unknown ids.
	GetInbound(ctx context.Context, id string) (InboundMessage, error)
	// ListInbox returns matching messages: open crisis messages first (a
	// crisis is never pushed off the first page by ordinary texts), then the
	// rest, newest first.
	ListInbox(ctx context.Context, f InboxFilter) ([]InboundMessage, error)
	// ResolveInbound marks the message handled by staff (an actor such as
	// "staff:alice") and writes an audit entry, in one transaction.
	// Resolving a handled message changes nothing and returns it as it is.
	ResolveInbound(ctx context.Context, id, staff string) (InboundMessage, error)

	// RecordProviderEvent records an applied provider event unless its
	// (Provider, EventID) exists; created reports whether this call
	// recorded it.
	RecordProviderEvent(ctx context.Context, e ProviderEvent) (created bool, err error)
	// GetProviderEvent returns ErrNotFound when the event was never recorded.
	GetProviderEvent(ctx context.Context, provider, eventID string) (ProviderEvent, error)

	// Ping checks the connection.
	Ping(ctx context.Context) error
	Close() error

	// Dead letters

	// AddDeadLetter records a message its consumer gave up on; recording
	// the same (Stream, StreamSeq) again is a no-op (created=false).
	AddDeadLetter(ctx context.Context, d DeadLetter) (DeadLetter, bool, error)
	// ListDeadLetters returns the newest first; pending only when
	// onlyPending is set.
	ListDeadLetters(ctx context.Context, onlyPending bool, limit int) ([]DeadLetter, error)
	GetDeadLetter(ctx context.Context, id int64) (DeadLetter, error)
	// MarkDeadLetterReplayed stamps the replay; replaying twice is ErrConflict.
	MarkDeadLetterReplayed(ctx context.Context, id int64, by string) (DeadLetter, error)

	// Reminders

	// UpsertReminder records the scheduler's decision for r.Key: it creates
	// the row or replaces its state, reason, FireAt and NotAfter (the
	// session, version, offset and channel are part of the key).
	UpsertReminder(ctx context.Context, r Reminder) (Reminder, error)
	// CancelReminders marks the session's scheduled reminders cancelled with
	// reason, except those whose key is in keep; it returns how many it
	// changed. Skipped and cancelled rows are left as they are.
	CancelReminders(ctx context.Context, sessionID string, keep []string, reason string) (int, error)
	// ListReminders returns matching reminders, soonest FireAt first.
	ListReminders(ctx context.Context, f ReminderFilter) ([]Reminder, error)
	ReminderLoads
}
