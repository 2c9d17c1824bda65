package store

import (
	"context"
	"time"

	"github.com/nudgehq/nudge/internal/vocab"
)

// Group is a support group: a name, and members through [Membership].
// A group may have members before its group.upserted event arrives; its
// Name is then empty.
type Group struct {
	ID          string
	Name        string
	MemberCount int       // active members
	UpdatedAt   time.Time // time of the event that last named it; zero if never named
}

// AudienceMember is what deciding whether a message for one purpose can
// reach a client needs, read for many clients at once (announcements fan
// out to thousands).
type AudienceMember struct {
	ClientID string
	Known    bool   // a client.upserted was applied; Client is zero otherwise
	Client   Client // profile
	// Consent is the current consent for the purpose, by channel; a
	// channel without any ledger entry for the purpose is absent.
	Consent map[vocab.Channel]ConsentState
	// Suppressed reports, by channel, whether the client's address on
	// that channel is blocked (carrier opt-out, bounce, spam report).
	Suppressed map[vocab.Channel]bool
	// CarePause is the client's latest care pause, nil if never paused;
	// whether it holds at a given time is CarePause.InForce.
	CarePause *CarePause
}

// AnnouncementState is where an announcement is.
type AnnouncementState string

const (
	AnnouncementQueued    AnnouncementState = "queued"    // accepted; its recipients are being decided
	AnnouncementSending   AnnouncementState = "sending"   // every recipient decided; messages going out
	AnnouncementDone      AnnouncementState = "done"      // every recipient sent, skipped or failed
	AnnouncementCancelled AnnouncementState = "cancelled" // stopped: by staff, or refused (Reason)
)

// Announcement is one staff message to a support group.
type Announcement struct {
	ID                 string
	GroupID            string
	Template           string // a named template kind, or empty with Body
	Body               string // staff's own text, or empty with Template
	Channels           []vocab.Channel
	Urgent             bool
	UrgentReason       string
	LintOverrideReason string
	RequestedBy        string
	EventID            string // the announcement.requested event that created it
	State              AnnouncementState
	Reason             string // why cancelled: "staff", "lint: …", "unknown_group" …
	CancelledBy        string
	Total              int  // members when the recipients were decided
	Planned            bool // every recipient has its row (decided)
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

// RecipientState is where one member of an announcement is.
type RecipientState string

const (
	RecipientReady     RecipientState = "ready"     // reachable on Channel; notification not yet queued
	RecipientQueued    RecipientState = "queued"    // notification on the bus; the deliveries ledger has the rest
	RecipientDeferred  RecipientState = "deferred"  // the ledger holds it pending (quiet hours, cadence)
	RecipientDone      RecipientState = "done"      // the ledger row is final (sent, skipped, failed)
	RecipientSkipped   RecipientState = "skipped"   // excluded when decided; Reason says why
	RecipientCancelled RecipientState = "cancelled" // the announcement was cancelled before it was queued
)

// Recipient is one member of an announcement. Key is the idempotency key
// of its notification, "announcement:<id>:<client>:<channel>" (empty when
// skipped).
type Recipient struct {
	AnnouncementID string
	ClientID       string
	Channel        vocab.Channel
	Key            string
	State          RecipientState
	Reason         vocab.SkipReason
	// LedgerState and LedgerReason are the deliveries ledger row under
	// Key, when there is one (filled by PendingRecipients).
	LedgerState  DeliveryState
	LedgerReason string
}

// AnnouncementTally counts an announcement's recipients by outcome,
// combining the recipients table (decided exclusions, not yet queued,
// cancelled before queueing) with the deliveries ledger (everything
// queued).
type AnnouncementTally struct {
	Total     int
	Queued    int // decided, not yet final: waiting to be queued or in the deliverer's hands
	Sent      int // sent or delivered
	Skipped   int
	Failed    int // failed or undelivered
	Deferred  int // pending in the ledger: waiting for the client's window or cadence
	Cancelled int
	// SkippedBy counts Skipped by reason (no_consent, opted_out …).
	SkippedBy map[vocab.SkipReason]int
	// ByChannel counts recipients that were queued, by channel.
	ByChannel map[vocab.Channel]int
}

// AnnouncementFilter selects announcements, newest first.
type AnnouncementFilter struct {
	GroupID string
	State   AnnouncementState
	Limit   int // 0 means 100
}

// Announcements is the store of support groups and staff announcements.
type Announcements interface {
	// ApplyGroupUpsert names (or renames) a group. An event older than the
	// group's UpdatedAt is ReasonStale.
	ApplyGroupUpsert(ctx context.Context, ev EventRef, g Group) (Result, error)
	// ListGroups returns every group that has a name or members, by id.
	ListGroups(ctx context.Context) ([]Group, error)
	// GetGroup returns ErrNotFound for a group with neither name nor members.
	GetGroup(ctx context.Context, id string) (Group, error)
	// GroupMembersAfter returns up to limit active member ids greater than
	// after, sorted (paging through large groups).
	GroupMembersAfter(ctx context.Context, groupID, after string, limit int) ([]string, error)
	// Audience reads what deciding reachability for purpose needs, for
	// each client id, in the order given.
	Audience(ctx context.Context, clientIDs []string, purpose vocab.Purpose) ([]AudienceMember, error)

	// CreateAnnouncement stores a queued announcement unless one with its
	// ID exists; it returns the stored row and whether this call created it.
	CreateAnnouncement(ctx context.Context, a Announcement) (Announcement, bool, error)
	GetAnnouncement(ctx context.Context, id string) (Announcement, error)
	ListAnnouncements(ctx context.Context, f AnnouncementFilter) ([]Announcement, error)
	// AddRecipients inserts decided recipients; a client already recorded
	// for the announcement is left as it is (no member twice).
	AddRecipients(ctx context.Context, rs []Recipient) error
	// LastRecipient returns the greatest client id recorded for the
	// announcement ("" when none): where deciding resumes after a crash.
	LastRecipient(ctx context.Context, announcementID string) (string, error)
	// FinishPlanning marks every recipient decided: Planned, Total, and
	// state sending (unless cancelled meanwhile).
	FinishPlanning(ctx context.Context, announcementID string) (Announcement, error)
	// ReadyRecipients returns up to limit recipients in state ready, by client id.
	ReadyRecipients(ctx context.Context, announcementID string, limit int) ([]Recipient, error)
	// PendingRecipients returns the recipients in the given state (queued
	// or deferred) with their ledger state, up to limit.
	PendingRecipients(ctx context.Context, announcementID string, state RecipientState, limit int) ([]Recipient, error)
	// SetRecipientState moves the listed clients' recipients to state.
	SetRecipientState(ctx context.Context, announcementID string, clientIDs []string, state RecipientState) error
	// CancelAnnouncement stops an announcement: state cancelled with
	// reason, recipients not yet queued cancelled, and ledger rows still
	// pending (deferred) skipped with vocab.SkipAnnouncementCancelled, in one
	// transaction. Cancelling a done or cancelled announcement changes
	// nothing and returns it as it is (changed=false).
	CancelAnnouncement(ctx context.Context, id, by, reason string) (a Announcement, changed bool, err error)
	// CompleteAnnouncement records that every recipient is final: a
	// sending announcement becomes done, a cancelled one stays cancelled,
	// and neither is active any more.
	CompleteAnnouncement(ctx context.Context, id string) (Announcement, error)
	// TallyAnnouncement counts the announcement's recipients by outcome.
	TallyAnnouncement(ctx context.Context, id string) (AnnouncementTally, error)
	// ActiveAnnouncements returns announcements whose recipients are not
	// all final: queued, sending, or cancelled with messages in flight.
	ActiveAnnouncements(ctx context.Context) ([]Announcement, error)
	// LeaseAnnouncement gives owner the right to feed the announcement
	// until until, if nobody else holds an unexpired lease.
	LeaseAnnouncement(ctx context.Context, id, owner string, now, until time.Time) (bool, error)
}
