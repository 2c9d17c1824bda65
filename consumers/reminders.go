package consumers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nudgehq/nudge/internal/quiethours"
	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/subject"
	"github.com/nudgehq/nudge/internal/vocab"
	"github.com/nudgehq/nudge/publishers"
	"github.com/nudgehq/nudge/templates"
)

// Reminder defaults (PRODUCT.md job 1).
var (
	DefaultReminderOffsets   = ReminderOffsets{48 * time.Hour, 2 * time.Hour}
	DefaultReminderStaleness = 30 * time.Minute
)

// ScheduleTTLGrace is how much longer than the staleness limit the message
// a reminder schedule generates stays on the stream. Within it a deliverer
// that starts after the bus (a restart after an outage) still records why
// it skipped the reminder (expired) in the ledger; past it the message is
// dropped unread, so a long outage of the deliverer alone cannot flood
// clients either, and the reminders view reports the reminder expired.
const ScheduleTTLGrace = 5 * time.Minute

// Reasons the reminder scheduler records for reminders it withdrew or
// never scheduled, beyond quiethours' placement reasons.
const (
	ReasonReminderMoved          = "moved"           // the session was rescheduled (new version)
	ReasonReminderCancelled      = "cancelled"       // the session was cancelled
	ReasonReminderChannelChanged = "channel_changed" // the client's channel changed
	ReasonReminderOffsetRemoved  = "offset_removed"  // the practice no longer uses this offset
)

// ReminderOffsets are how long before a session its reminders go, e.g.
// "48h,2h". It reads and writes the comma-separated form of
// NUDGE_REMINDER_OFFSETS.
type ReminderOffsets []time.Duration

// ParseReminderOffsets parses a comma-separated list of Go durations.
// Offsets must be positive whole seconds (schedules fire on the second)
// and unique; the result is sorted longest first.
func ParseReminderOffsets(s string) (ReminderOffsets, error) {
	var out ReminderOffsets
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		d, err := time.ParseDuration(part)
		switch {
		case err != nil:
			return nil, fmt.Errorf("reminder offset %q: want a Go duration such as 48h or 90m", part)
		case d <= 0:
			return nil, fmt.Errorf("reminder offset %q: must be positive", part)
		case d%time.Second != 0:
			return nil, fmt.Errorf("reminder offset %q: must be whole seconds", part)
		case slices.Contains(out, d):
			return nil, fmt.Errorf("reminder offset %q: given twice", part)
		}
		out = append(out, d)
	}
	if len(out) == 0 {
		return nil, errors.New("reminder offsets: none given, want e.g. 48h,2h")
	}
	slices.SortFunc(out, func(a, b time.Duration) int { return int((b - a) / time.Second) })
	return out, nil
}

// UnmarshalText implements encoding.TextUnmarshaler (flags, environment).
func (o *ReminderOffsets) UnmarshalText(b []byte) error {
	parsed, err := ParseReminderOffsets(string(b))
	if err != nil {
		return err
	}
	*o = parsed
	return nil
}

// String is the comma-separated form ParseReminderOffsets reads.
func (o ReminderOffsets) String() string {
	parts := make([]string, len(o))
	for i, d := range o {
		parts[i] = vocab.OffsetLabel(d)
	}
	return strings.Join(parts, ",")
}

// ReminderConfig is a practice's reminder policy.
type ReminderConfig struct {
	// Offsets before the session start; default DefaultReminderOffsets.
	Offsets ReminderOffsets
	// Staleness bounds how late a reminder may still go: its expiry is
	// the fire time plus Staleness (never after the session start); the
	// message its schedule generates lives Staleness + ScheduleTTLGrace on
	// the stream. Default DefaultReminderStaleness.
	Staleness time.Duration
	// Policy places reminders inside the client's allowed window; the zero
	// Window means quiethours.Default.
	Policy quiethours.ReminderPolicy
	// TelehealthURL is the practice's telehealth link, put in reminders
	// of telehealth sessions ("" for none).
	TelehealthURL string
	// BookedConfirmation sends a "booked" message when a session is booked.
	BookedConfirmation bool
	// Spread is how much earlier than due an unpaced reminder may fire
	// (at most a sixtieth of its offset), so reminders due together reach
	// the provider by their due time (see fireplan.go). 0 means
	// DefaultReminderSpread; negative fires every reminder at its due time.
	Spread time.Duration
	// Rates are the pacer's rates per channel (calls per second, as
	// pacing.Limits): reminders on a paced channel are planned earlier so
	// that those due together fit the rate. Nil or 0: not paced.
	Rates map[string]float64
}

// withDefaults fills zero fields and validates; errors name the field.
func (c ReminderConfig) withDefaults() (ReminderConfig, error) {
	if len(c.Offsets) == 0 {
		c.Offsets = DefaultReminderOffsets
	}
	if c.Staleness == 0 {
		c.Staleness = DefaultReminderStaleness
	}
	if c.Policy.Window == (quiethours.Window{}) {
		c.Policy.Window = quiethours.Default
	}
	if c.Staleness < time.Second {
		return c, fmt.Errorf("reminders: Staleness %v: want at least 1s", c.Staleness)
	}
	if _, err := ParseReminderOffsets(c.Offsets.String()); err != nil {
		return c, fmt.Errorf("reminders: Offsets: %w", err)
	}
	if err := c.Policy.Validate(); err != nil {
		return c, fmt.Errorf("reminders: Policy: %w", err)
	}
	return c, nil
}

// ReminderScheduler turns session changes into JetStream message
// schedules, one per session and offset (invariants 5 and 6):
//
//   - booked or rescheduled: each offset's reminder is placed in the
//     client's allowed window (quiethours.ReminderPolicy) and scheduled on
//     subject.Reminder(session, offset), replacing the previous version's
//     schedule there; an offset that can no longer be placed (already
//     past, no allowed minute before the session) has its subject purged
//     and is recorded as skipped.
//   - cancelled: every offset's subject is purged.
//
// It always works from the session and client as the store has them now,
// not from the event, so running it again (a redelivered event) schedules
// the same thing, and a later event simply wins. Every decision is kept in
// the store's reminders table; what happened when a reminder fired is in
// the deliveries ledger under the same key. The deliverer re-checks the
// session at fire time, so a schedule that escaped a purge still sends
// nothing for a cancelled or moved session.
//
// Create it with NewReminderScheduler. It is safe for concurrent use.
type ReminderScheduler struct {
	store store.Store
	bus   ReminderBus
	disp  Dispatcher
	cfg   ReminderConfig
	now   func() time.Time
	log   *slog.Logger
	// planMu serialises planning and recording reminders on paced
	// channels, so two plans never count the same free room.
	planMu sync.Mutex
}

// NewReminderScheduler returns a scheduler. disp queues booked
// confirmations and may be nil when cfg.BookedConfirmation is off; now may
// be nil (time.Now).
func NewReminderScheduler(st store.Store, bus ReminderBus, disp Dispatcher, cfg ReminderConfig, now func() time.Time, log *slog.Logger) (*ReminderScheduler, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if cfg.BookedConfirmation && disp == nil {
		return nil, errors.New("reminders: BookedConfirmation needs a Dispatcher")
	}
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &ReminderScheduler{store: st, bus: bus, disp: disp, cfg: cfg, now: now, log: log}, nil
}

// ReminderKey is the idempotency key of a reminder notification: one per
// session version, offset and channel.
func ReminderKey(sessionID string, version int, offset time.Duration, channel vocab.Channel) string {
	return fmt.Sprintf("reminder:%s:v%d:%s:%s", sessionID, version, vocab.OffsetLabel(offset), channel)
}

// BookedKey is the idempotency key of a session's booked confirmation.
func BookedKey(sessionID string, channel vocab.Channel) string {
	return "booked:" + sessionID + ":" + string(channel)
}

// SessionChanged implements SessionHook.
func (rs *ReminderScheduler) SessionChanged(ctx context.Context, eventType, sessionID string) error {
	return rs.Sync(ctx, sessionID, eventType == publishers.TypeSessionBooked)
}

// ClientChanged implements SessionHook: a new zone, locale, channel or
// address changes where and when the client's upcoming reminders go, and a
// booking that arrived before the client's profile gets its reminders now.
func (rs *ReminderScheduler) ClientChanged(ctx context.Context, clientID string) error {
	sessions, err := rs.store.UpcomingSessions(ctx, clientID, rs.now())
	if err != nil {
		return fmt.Errorf("reading upcoming sessions of %s: %w", clientID, err)
	}
	for _, s := range sessions {
		owed, err := rs.confirmationOwed(ctx, s)
		if err != nil {
			return err
		}
		if err := rs.Sync(ctx, s.ID, owed); err != nil {
			return err
		}
	}
	return nil
}

// confirmationOwed reports whether a session still waits for its booked
// confirmation because it was booked before its client's profile arrived:
// the booking's sync then had no one to write to and left no reminder rows
// (every sync that knows the client records one per offset). Two ingest
// workers, or a redelivery after a crash, apply a producer's events out of
// order, so this is common in a cluster; without it the confirmation was
// silently never sent (found by the fault test). Sending it twice is
// impossible: its key is unique in the ledger.
func (rs *ReminderScheduler) confirmationOwed(ctx context.Context, s store.Session) (bool, error) {
	if !rs.cfg.BookedConfirmation || s.Status != store.SessionBooked || len(rs.cfg.Offsets) == 0 {
		return false, nil
	}
	rows, err := rs.store.ListReminders(ctx, store.ReminderFilter{SessionID: s.ID, Limit: 1})
	if err != nil {
		return false, fmt.Errorf("reading reminders of session %s: %w", s.ID, err)
	}
	return len(rows) == 0, nil
}

// Sync makes the session's schedules match its current state; booked asks
// for the booked confirmation too. If the session changes while Sync runs
// (another process applied a newer event), it syncs again so the newest
// state's schedules are the ones left on the bus.
func (rs *ReminderScheduler) Sync(ctx context.Context, sessionID string, booked bool) error {
	for range 3 {
		s, err := rs.store.GetSession(ctx, sessionID)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading session %s: %w", sessionID, err)
		}
		if err := rs.sync(ctx, s, booked); err != nil {
			return err
		}
		after, err := rs.store.GetSession(ctx, sessionID)
		if err != nil {
			return fmt.Errorf("reading session %s: %w", sessionID, err)
		}
		if after.Version == s.Version && after.Status == s.Status {
			return nil
		}
		booked = false
	}
	return fmt.Errorf("session %s kept changing while its reminders were scheduled", sessionID)
}

func (rs *ReminderScheduler) sync(ctx context.Context, s store.Session, booked bool) error {
	existing, err := rs.store.ListReminders(ctx, store.ReminderFilter{SessionID: s.ID, Limit: 1000})
	if err != nil {
		return fmt.Errorf("reading reminders of session %s: %w", s.ID, err)
	}
	if s.Status == store.SessionCancelled {
		return rs.cancel(ctx, s, existing)
	}

	c, err := rs.store.GetClient(ctx, s.ClientID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		// The booking arrived before the client's profile; ClientChanged
		// schedules the reminders when it comes.
		rs.log.Info("reminders wait for the client profile", "session", s.ID, "client", s.ClientID)
		return nil
	case err != nil:
		return fmt.Errorf("reading client %s: %w", s.ClientID, err)
	}
	ch, to := reminderChannel(c)
	loc := clientLocation(c)
	now := rs.now()
	vars := map[string]any{
		"When":         templates.FormatWhen(s.StartsAt, loc, c.Locale),
		"Link":         rs.link(s),
		"LocationKind": s.LocationKind,
	}

	kept := map[string]bool{}
	for _, offset := range rs.cfg.Offsets {
		subject := subject.Reminder(s.ID, offset)
		due := s.StartsAt.Add(-offset)
		if ch == "" {
			// No address at all: nothing can go; say so.
			key := ReminderKey(s.ID, s.Version, offset, vocab.SMS)
			kept[key] = true
			if err := rs.skip(ctx, s, c, offset, key, vocab.SMS, "", due, string(vocab.SkipNoAddress), subject, existing); err != nil {
				return err
			}
			continue
		}
		if r, ok := firedEarly(existing, s.Version, offset, due, now); ok {
			kept[r.Key] = true
			continue
		}
		key := ReminderKey(s.ID, s.Version, offset, ch)
		kept[key] = true
		p := rs.cfg.Policy.Place(due, s.StartsAt, now, loc)
		if p.Skip {
			if err := rs.skip(ctx, s, c, offset, key, ch, to, due, p.Reason, subject, existing); err != nil {
				return err
			}
			continue
		}
		placed := p.At.UTC().Truncate(time.Second)
		notAfter := placed.Add(rs.cfg.Staleness)
		if notAfter.After(s.StartsAt) {
			notAfter = s.StartsAt
		}
		unlock := rs.lockPlanning(ch)
		at, err := rs.planFire(ctx, key, ch, offset, placed, now, loc)
		if err != nil {
			unlock()
			return err
		}
		n := Notification{
			Key: key, ClientID: c.ID, Channel: ch, Purpose: vocab.Reminders, Kind: templates.KindReminder,
			Vars: vars, SessionID: s.ID, SessionVersion: s.Version, SessionStarts: s.StartsAt, NotAfter: notAfter,
		}
		if err := rs.bus.Schedule(ctx, subject, n, at, rs.cfg.Staleness+ScheduleTTLGrace); err != nil {
			unlock()
			return err
		}
		if _, err := rs.store.UpsertReminder(ctx, store.Reminder{
			Key: key, SessionID: s.ID, SessionVersion: s.Version, ClientID: c.ID, Offset: offset, Channel: ch,
			FireAt: at, NotAfter: notAfter, State: store.ReminderScheduled, Reason: p.Reason,
		}); err != nil {
			unlock()
			return fmt.Errorf("recording reminder %s: %w", key, err)
		}
		unlock()
		rs.log.Debug("reminder scheduled", "key", key, "at", at, "placement", p.Reason)
	}

	// Withdraw what this state no longer has: the previous version's
	// reminders (their subjects now hold this version's), another
	// channel's, and offsets the practice stopped using.
	for _, r := range existing {
		if kept[r.Key] || r.State != store.ReminderScheduled {
			continue
		}
		reason := ReasonReminderMoved
		switch {
		case !slices.Contains(rs.cfg.Offsets, r.Offset):
			reason = ReasonReminderOffsetRemoved
			if err := rs.bus.Unschedule(ctx, subject.Reminder(s.ID, r.Offset)); err != nil {
				return err
			}
		case r.SessionVersion == s.Version:
			reason = ReasonReminderChannelChanged
		}
		if err := rs.withdraw(ctx, r, reason); err != nil {
			return err
		}
	}

	if booked && rs.cfg.BookedConfirmation && ch != "" {
		return rs.confirm(ctx, s, c, ch, vars, now, loc)
	}
	return nil
}

// skip records an offset that gets no reminder and purges its subject,
// which may still hold a schedule of the session's previous version. A
// reminder already scheduled under this very key whose offset has passed
// has fired (or is firing): it is left to the deliverer and the ledger.
func (rs *ReminderScheduler) skip(ctx context.Context, s store.Session, c store.Client, offset time.Duration, key string, ch vocab.Channel, to string, due time.Time, reason, subject string, existing []store.Reminder) error {
	for _, r := range existing {
		if r.Key == key && r.State == store.ReminderScheduled && reason == quiethours.ReasonOffsetPassed {
			return nil
		}
	}
	if err := rs.bus.Unschedule(ctx, subject); err != nil {
		return err
	}
	if _, err := rs.store.UpsertReminder(ctx, store.Reminder{
		Key: key, SessionID: s.ID, SessionVersion: s.Version, ClientID: c.ID, Offset: offset, Channel: ch,
		FireAt: due, State: store.ReminderSkipped, Reason: reason,
	}); err != nil {
		return fmt.Errorf("recording skipped reminder %s: %w", key, err)
	}
	if reason == quiethours.ReasonOffsetPassed || reason == string(vocab.SkipNoAddress) {
		// Never due (a session booked 3 hours ahead has no 48-hour
		// reminder), or due once the client has an address (ClientChanged
		// schedules it then, under this very key, so no terminal ledger row
		// may block it). The reminders table says why.
		return nil
	}
	_, _, err := rs.store.CreateDelivery(ctx, store.Delivery{
		IdempotencyKey: key, ClientID: c.ID, Channel: ch, Purpose: vocab.Reminders, Template: templates.KindReminder,
		To: to, State: store.DeliverySkipped, Reason: reason, SessionID: s.ID, SessionVersion: s.Version,
	})
	if err != nil {
		return fmt.Errorf("recording skipped reminder %s in the ledger: %w", key, err)
	}
	rs.log.Info("reminder skipped", "key", key, "reason", reason)
	return nil
}

func (rs *ReminderScheduler) withdraw(ctx context.Context, r store.Reminder, reason string) error {
	r.State, r.Reason = store.ReminderCancelled, reason
	if _, err := rs.store.UpsertReminder(ctx, r); err != nil {
		return fmt.Errorf("withdrawing reminder %s: %w", r.Key, err)
	}
	return nil
}

// cancel purges every schedule the session may have: the configured
// offsets and any offset an older configuration scheduled.
func (rs *ReminderScheduler) cancel(ctx context.Context, s store.Session, existing []store.Reminder) error {
	offsets := slices.Clone(rs.cfg.Offsets)
	for _, r := range existing {
		if !slices.Contains(offsets, r.Offset) {
			offsets = append(offsets, r.Offset)
		}
	}
	for _, o := range offsets {
		if err := rs.bus.Unschedule(ctx, subject.Reminder(s.ID, o)); err != nil {
			return err
		}
	}
	if _, err := rs.store.CancelReminders(ctx, s.ID, nil, ReasonReminderCancelled); err != nil {
		return fmt.Errorf("cancelling reminders of session %s: %w", s.ID, err)
	}
	rs.log.Debug("reminders cancelled", "session", s.ID)
	return nil
}

// confirm queues the booked confirmation: now when the client's window is
// open, else at its next opening, and not at all once the session started.
func (rs *ReminderScheduler) confirm(ctx context.Context, s store.Session, c store.Client, ch vocab.Channel, vars map[string]any, now time.Time, loc *time.Location) error {
	return rs.confirmAs(ctx, BookedKey(s.ID, ch), s, c, ch, vars, now, loc)
}

// confirmAs is confirm under key. A deferred confirmation is on the
// ledger at once, pending with its time, so it is never silent.
func (rs *ReminderScheduler) confirmAs(ctx context.Context, key string, s store.Session, c store.Client, ch vocab.Channel, vars map[string]any, now time.Time, loc *time.Location) error {
	n := Notification{
		Key: key, ClientID: c.ID, Channel: ch, Purpose: vocab.Reminders, Kind: templates.KindBooked,
		Vars: vars, SessionID: s.ID, SessionVersion: s.Version, SessionStarts: s.StartsAt, NotAfter: s.StartsAt,
	}
	w := rs.cfg.Policy.Window
	if w.Contains(now, loc) {
		if err := rs.disp.Notify(ctx, n); err != nil {
			return fmt.Errorf("queueing booked confirmation of %s: %w", s.ID, err)
		}
		return nil
	}
	at := quiethours.NextAllowed(now, loc, w)
	if !at.Before(s.StartsAt) {
		return nil
	}
	if err := rs.store.SetDeferral(ctx, store.Deferral{Key: key, NotBefore: at, Why: "quiet_hours"}); err != nil {
		return fmt.Errorf("recording the deferral of %s: %w", key, err)
	}
	if _, _, err := rs.store.CreateDelivery(ctx, store.Delivery{
		ID: store.NewDeliveryID(), IdempotencyKey: key, ClientID: c.ID, Channel: ch, Purpose: vocab.Reminders,
		Template: templates.KindBooked, To: clientAddress(c, ch), State: store.DeliveryPending, SessionID: s.ID, SessionVersion: s.Version,
	}); err != nil {
		return fmt.Errorf("recording the deferred booked confirmation of %s: %w", s.ID, err)
	}
	if err := rs.disp.NotifyAt(ctx, n, at); err != nil {
		return fmt.Errorf("deferring booked confirmation of %s: %w", s.ID, err)
	}
	return nil
}

// link is the telehealth link for telehealth sessions, else "".
func (rs *ReminderScheduler) link(s store.Session) string {
	if s.LocationKind == publishers.LocationTelehealth {
		return rs.cfg.TelehealthURL
	}
	return ""
}

// reminderChannel picks the client's preferred channel when it has an
// address there, else SMS, else email; "" when the client has neither.
func reminderChannel(c store.Client) (channel vocab.Channel, to string) {
	addr := map[vocab.Channel]string{vocab.SMS: c.Phone, vocab.Email: c.Email}
	if a := addr[c.PreferredChannel]; a != "" {
		return c.PreferredChannel, a
	}
	for _, ch := range vocab.Channels() {
		if addr[ch] != "" {
			return ch, addr[ch]
		}
	}
	return "", ""
}

// clientLocation is the client's zone; UTC when it is unknown (intake
// validates zones, so only hand-made rows lack one).
func clientLocation(c store.Client) *time.Location {
	if loc, err := loadZone(c.Timezone); err == nil && c.Timezone != "" {
		return loc
	}
	return time.UTC
}
