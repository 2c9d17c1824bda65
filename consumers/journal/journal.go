// Package journal sends gentle nudges when a client's journaling app
// reports missed days (PRODUCT.md, job 2), and withdraws them when the
// client writes.
//
// journal.day_missed nudges only when quiethours.JournalNudgeDue says so
// (missed day 1, 3 and 7 of a stretch; never counting, never shaming):
// one notification keyed journal:<client>:<date>, purpose journal, on the
// channel consumers.ChooseChannel picks, placed in the client's window on
// that local date and expired once the date has passed. The ledger row is
// written here, pending (deferred until the window opens when it is
// early), so journal.entry_written can withdraw any nudge still waiting
// for the client: someone who just wrote is never nudged.
package journal

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nudgehq/nudge/consumers"
	"github.com/nudgehq/nudge/internal/quiethours"
	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/subject"
	"github.com/nudgehq/nudge/internal/vocab"
	"github.com/nudgehq/nudge/publishers"
	"github.com/nudgehq/nudge/templates"
)

// Reasons recorded in the ledger.
const (
	// ReasonEntryWritten: the client wrote before the nudge went.
	ReasonEntryWritten = "journal_entry_written"
	// ReasonDatePassed: the missed day was over, on the client's clock,
	// before the nudge could go in the client's window.
	ReasonDatePassed = vocab.SkipExpired
)

// Unscheduler removes a deferred notification's schedule.
type Unscheduler interface {
	Unschedule(ctx context.Context, subject string) error
}

// Config configures a Job. Store, Dispatcher and Schedules are required.
type Config struct {
	Store      store.Store
	Dispatcher consumers.Dispatcher
	Schedules  Unscheduler
	// Window is the client's allowed window; zero means quiethours.Default.
	Window quiethours.Window
	Now    func() time.Time
	Logger *slog.Logger
}

// Job is the journal nudge job, an ingest consumers.EventHook.
type Job struct{ cfg Config }

// New validates cfg.
func New(cfg Config) (*Job, error) {
	if cfg.Store == nil || cfg.Dispatcher == nil || cfg.Schedules == nil {
		return nil, errors.New("journal: Store, Dispatcher and Schedules are required")
	}
	if cfg.Window == (quiethours.Window{}) {
		cfg.Window = quiethours.Default
	}
	if err := cfg.Window.Validate(); err != nil {
		return nil, fmt.Errorf("journal: Window: %w", err)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Job{cfg: cfg}, nil
}

// Key is the idempotency key of a client's journal nudge for a date.
func Key(clientID, date string) string { return "journal:" + clientID + ":" + date }

// EventApplied implements consumers.EventHook.
func (j *Job) EventApplied(ctx context.Context, ev publishers.Event, _ store.Result) error {
	switch ev.Type {
	case publishers.TypeJournalDayMissed:
		d, err := publishers.DataAs[publishers.JournalDayMissed](ev)
		if err != nil {
			return nil
		}
		return j.DayMissed(ctx, d)
	case publishers.TypeJournalEntryWritten:
		d, err := publishers.DataAs[publishers.JournalEntryWritten](ev)
		if err != nil {
			return nil
		}
		return j.EntryWritten(ctx, d.ClientID)
	}
	return nil
}

// DayMissed nudges when the missed stretch has reached day 1, 3 or 7. An
// event without missed_days_in_row counts as the first missed day.
func (j *Job) DayMissed(ctx context.Context, d publishers.JournalDayMissed) error {
	days := d.MissedDaysInRow
	if days == 0 {
		days = 1
	}
	if !quiethours.JournalNudgeDue(days) {
		return nil
	}
	key := Key(d.ClientID, d.Date)
	c, err := j.cfg.Store.GetClient(ctx, d.ClientID)
	if errors.Is(err, store.ErrNotFound) {
		_, err := j.record(ctx, store.Delivery{IdempotencyKey: key, ClientID: d.ClientID, Channel: vocab.SMS}, store.DeliverySkipped, string(vocab.SkipUnknownClient))
		return err
	}
	if err != nil {
		return fmt.Errorf("reading client %s: %w", d.ClientID, err)
	}
	loc := clientLocation(c)
	day, err := time.ParseInLocation(time.DateOnly, d.Date, loc)
	if err != nil {
		return consumers.Permanent(fmt.Errorf("journal.day_missed date %q: %w", d.Date, err))
	}
	ch, ok, err := consumers.ChooseChannel(ctx, j.cfg.Store, c, vocab.Journal)
	if err != nil {
		return err
	}
	row := store.Delivery{IdempotencyKey: key, ClientID: c.ID, Channel: vocab.SMS}
	if !ok {
		_, err := j.record(ctx, row, store.DeliverySkipped, string(consumers.NoChannelReason(c)))
		return err
	}
	row.Channel, row.To = ch, address(c, ch)

	// The nudge belongs to the missed day: in the window on that date, not
	// later. "End of day" is the next date's midnight on the client's clock.
	now := j.cfg.Now()
	end := time.Date(day.Year(), day.Month(), day.Day()+1, 0, 0, 0, 0, loc)
	at := quiethours.NextAllowed(maxTime(now, day), loc, j.cfg.Window)
	if !at.Before(end) {
		_, err := j.record(ctx, row, store.DeliverySkipped, string(ReasonDatePassed))
		return err
	}
	if at.After(now) {
		// Recorded before the row, so the ledger never shows this nudge
		// pending without saying until when.
		if err := j.cfg.Store.SetDeferral(ctx, store.Deferral{Key: key, NotBefore: at, Why: "quiet_hours"}); err != nil {
			return fmt.Errorf("recording the deferral of %s: %w", key, err)
		}
	}
	stored, err := j.record(ctx, row, store.DeliveryPending, "")
	if err != nil || stored.State != store.DeliveryPending {
		return err // a repeated event: the nudge went, or was withdrawn
	}
	n := consumers.Notification{
		Key: key, ClientID: c.ID, Channel: ch, Purpose: vocab.Journal, Kind: templates.KindJournalNudge, NotAfter: end,
	}
	if !at.After(now) {
		if err := j.cfg.Dispatcher.Notify(ctx, n); err != nil {
			return fmt.Errorf("queueing journal nudge %s: %w", key, err)
		}
		return nil
	}
	if err := j.cfg.Dispatcher.NotifyAt(ctx, n, at); err != nil {
		return fmt.Errorf("deferring journal nudge %s: %w", key, err)
	}
	return nil
}

// EntryWritten withdraws every journal nudge still waiting for the client:
// its ledger row is skipped (so the deliverer sends nothing when it comes
// due) and its schedule removed.
func (j *Job) EntryWritten(ctx context.Context, clientID string) error {
	rows, err := j.cfg.Store.ListDeliveries(ctx, store.DeliveryFilter{ClientID: clientID, State: store.DeliveryPending, Limit: 500})
	if err != nil {
		return fmt.Errorf("reading waiting nudges of %s: %w", clientID, err)
	}
	for _, d := range rows {
		if d.Purpose != vocab.Journal {
			continue
		}
		if _, err := j.cfg.Store.UpdateDelivery(ctx, d.ID, store.DeliveryUpdate{State: store.DeliverySkipped, Reason: ReasonEntryWritten}); err != nil {
			return fmt.Errorf("withdrawing journal nudge %s: %w", d.IdempotencyKey, err)
		}
		if err := j.cfg.Schedules.Unschedule(ctx, subject.Deferred(d.IdempotencyKey)); err != nil {
			return err
		}
		j.cfg.Logger.Info("journal nudge withdrawn: the client wrote", "key", d.IdempotencyKey)
	}
	return nil
}

// record writes the nudge's ledger row unless its key has one, and
// returns the stored row.
func (j *Job) record(ctx context.Context, d store.Delivery, state store.DeliveryState, reason string) (store.Delivery, error) {
	d.ID, d.Purpose, d.Template, d.State, d.Reason = store.NewDeliveryID(), vocab.Journal, templates.KindJournalNudge, state, reason
	stored, _, err := j.cfg.Store.CreateDelivery(ctx, d)
	if err != nil {
		return stored, fmt.Errorf("recording journal nudge %s: %w", d.IdempotencyKey, err)
	}
	return stored, nil
}

func address(c store.Client, ch vocab.Channel) string {
	if ch == vocab.Email {
		return c.Email
	}
	return c.Phone
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func clientLocation(c store.Client) *time.Location {
	if loc, err := time.LoadLocation(c.Timezone); err == nil && c.Timezone != "" {
		return loc
	}
	return time.UTC
}
