package consumers

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nudgehq/nudge/internal/cron"
	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/vocab"
	"github.com/nudgehq/nudge/publishers"
)

// ReasonNotHandledHere is recorded for event types that other consumers act
// on (journal nudges, announcements): ingest keeps their record only.
const ReasonNotHandledHere = "recorded_only"

// Ingest applies catalogue events to the store.
type Ingest struct {
	Store  store.Store
	Logger *slog.Logger
	// Sessions, when set, hears about session and client changes in the
	// handler that applied them, so it acts on the state just written
	// (the ReminderScheduler). An error is retried like a store error.
	Sessions SessionHook
	// UntrustedContactSources are CloudEvents sources whose client.upserted
	// may add a phone or email but never replace an existing client's
	// (Cal.com, unless NUDGE_CALCOM_TRUST_CONTACT: anyone can book with
	// anyone's email). Such a change keeps the stored contact, applies the
	// rest, and puts the change in the staff inbox to confirm.
	UntrustedContactSources []string
	// Jobs hear about every event after it was applied (or recorded), on
	// the same terms as Sessions: the encouragement scheduler and journal
	// nudges. An error is retried like a store error.
	Jobs []EventHook
}

// EventHook is a job that acts on events after ingest recorded them
// (encouragement schedules, journal nudges). Like SessionHook it runs
// again when a redelivered event turns out to be a duplicate, so it must
// derive what it does from stored state and be idempotent.
type EventHook interface {
	EventApplied(ctx context.Context, ev publishers.Event, res store.Result) error
}

// Reasons ingest records for events a job acts on rather than the store.
const (
	ReasonHandedToJournal = "handed_to_journal" // journal.day_missed, journal.entry_written
	// ReasonHandedToAnnouncements: the announce consumer fans the
	// announcement out; GET /v1/announcements/{id} shows its progress.
	ReasonHandedToAnnouncements = "handed_to_announcements"
)

// SessionHook reacts to session and client changes the store applied. It
// is called when the store reports Applied, and again when a message is
// redelivered and the store says the event is a duplicate: the previous
// attempt may have stopped between the store write and the hook, so hooks
// must derive what they do from the stored state and be idempotent.
type SessionHook interface {
	SessionChanged(ctx context.Context, eventType, sessionID string) error
	ClientChanged(ctx context.Context, clientID string) error
}

// Handle is a Handler for the NUDGE_EVENTS ingest consumer.
func (in *Ingest) Handle(ctx context.Context, msg jetstream.Msg) error {
	ev, err := publishers.ParseAccepted(msg.Data())
	if err != nil {
		// Intake validates before publishing, so this is a producer that
		// wrote to the stream directly. Redelivery cannot fix it.
		return Permanent(fmt.Errorf("invalid event on %s: %w", msg.Subject(), err))
	}
	res, err := in.Apply(ctx, ev)
	if err != nil {
		return err
	}
	if err := in.afterApply(ctx, msg, ev, res); err != nil {
		return err
	}
	if in.Logger != nil {
		in.Logger.Debug("event ingested", "event_id", ev.ID, "type", ev.Type, "applied", res.Applied, "reason", res.Reason)
	}
	return nil
}

// Apply applies one validated event. It is idempotent: the store records the
// event id in the same transaction as the change.
func (in *Ingest) Apply(ctx context.Context, ev publishers.Event) (store.Result, error) {
	ref := store.EventRef{ID: ev.ID, Type: ev.Type, Source: ev.Source, Time: ev.Time}
	data, err := ev.DecodeData()
	if err != nil {
		return store.Result{}, Permanent(fmt.Errorf("decoding %s data: %w", ev.Type, err))
	}
	var res store.Result
	switch d := data.(type) {
	case publishers.ClientUpserted:
		c := store.Client{
			ID: d.ClientID, FirstName: d.FirstName, Timezone: d.Timezone, Phone: d.Phone,
			Email: d.Email, Locale: d.Locale, PreferredChannel: d.PreferredChannel,
		}
		if slices.Contains(in.UntrustedContactSources, ev.Source) {
			if c, err = in.guardContact(ctx, ev, c); err != nil {
				return store.Result{}, err
			}
		}
		res, err = in.Store.ApplyClientUpsert(ctx, ref, c)
	case publishers.ConsentChanged:
		action := store.ConsentGranted
		if ev.Type == publishers.TypeConsentRevoked {
			action = store.ConsentRevoked
		}
		res, err = in.Store.AppendConsent(ctx, ref, store.ConsentEntry{
			ClientID: d.ClientID, Channel: d.Channel, Purpose: d.Purpose, Action: action,
			Source: d.Source, WordingVersion: d.WordingVersion, EventID: ref.LedgerEventID(), OccurredAt: ev.Time,
		})
	case publishers.SessionBooked:
		res, err = in.Store.ApplySessionBooked(ctx, ref, store.Session{
			ID: d.SessionID, ClientID: d.ClientID, StartsAt: d.StartsAt, DurationMin: d.DurationMin,
			ClinicianDisplayName: d.ClinicianDisplayName, LocationKind: d.LocationKind,
		})
	case publishers.SessionRescheduled:
		res, err = in.Store.ApplySessionRescheduled(ctx, ref, d.SessionID, d.StartsAt)
	case publishers.SessionCancelled:
		res, err = in.Store.ApplySessionCancelled(ctx, ref, d.SessionID, d.Reason)
	case publishers.CarePaused:
		res, err = in.Store.ApplyCarePause(ctx, ref, store.CarePause{
			ClientID: d.ClientID, Scope: d.Scope, Until: d.Until, RequestedBy: d.RequestedBy,
		})
	case publishers.CareResumed:
		res, err = in.Store.ApplyCareResume(ctx, ref, d.ClientID, d.RequestedBy)
	case publishers.GroupUpserted:
		res, err = in.Store.ApplyGroupUpsert(ctx, ref, store.Group{ID: d.GroupID, Name: d.Name})
	case publishers.EncouragementScheduleSet:
		sch := store.EncouragementSchedule{ClientID: d.ClientID, Cron: d.Cron, Themes: d.Themes, Source: store.ScheduleSourceEvent}
		if sch.Cron == "" {
			if sch.Cron, err = cron.FromDaysAt(d.Days, d.At); err != nil {
				return store.Result{}, Permanent(fmt.Errorf("encouragement schedule of %s: %w", d.ClientID, err))
			}
			sch.Days, sch.At = strings.Join(d.Days, ","), d.At
		}
		res, err = in.Store.ApplyEncouragementSchedule(ctx, ref, sch)
	case publishers.JournalDayMissed, publishers.JournalEntryWritten:
		res, err = in.Store.RecordEvent(ctx, ref, ReasonHandedToJournal)
	case publishers.AnnouncementRequested:
		res, err = in.Store.RecordEvent(ctx, ref, ReasonHandedToAnnouncements)
	case publishers.GroupMembership:
		res, err = in.Store.ApplyGroupMembership(ctx, ref, d.GroupID, d.ClientID, ev.Type == publishers.TypeGroupMemberAdded)
	default:
		res, err = in.Store.RecordEvent(ctx, ref, ReasonNotHandledHere)
	}
	if err != nil {
		return store.Result{}, fmt.Errorf("applying %s %s: %w", ev.Type, ev.ID, err)
	}
	return res, nil
}

// KindContactChange is the inbox kind of a contact change staff must
// confirm.
const KindContactChange = "contact_change"

// guardContact keeps an existing client's phone and email when an
// untrusted source would replace them, and records the change for staff
// (once per event: the inbox item's id derives from the event id).
func (in *Ingest) guardContact(ctx context.Context, ev publishers.Event, c store.Client) (store.Client, error) {
	old, err := in.Store.GetClient(ctx, c.ID)
	switch {
	case isNotFound(err):
		return c, nil // a new client: nothing to replace
	case err != nil:
		return c, fmt.Errorf("reading client %s: %w", c.ID, err)
	case !ev.Time.After(old.UpdatedAt):
		return c, nil // stale: the store keeps the newer state anyway
	}
	var changes []string
	ch := vocab.SMS
	if old.Phone != "" && c.Phone != "" && c.Phone != old.Phone {
		changes = append(changes, fmt.Sprintf("phone %s → %s", old.Phone, c.Phone))
		c.Phone = old.Phone
	}
	if old.Email != "" && c.Email != "" && !strings.EqualFold(c.Email, old.Email) {
		if len(changes) == 0 {
			ch = vocab.Email
		}
		changes = append(changes, fmt.Sprintf("email %s → %s", old.Email, c.Email))
		c.Email = old.Email
	}
	if len(changes) == 0 {
		return c, nil
	}
	id := "contact:" + ev.ID
	body := fmt.Sprintf("A booking (%s) names client %s with a different %s. The stored contact was kept; "+
		"if the change is right, publish client.upserted with it (consent must then be granted for the new address).",
		ev.Source, c.ID, strings.Join(changes, " and "))
	if _, err := in.Store.RecordInbound(ctx, store.InboundMessage{
		ID: id, Channel: ch, From: ev.Source, Body: body, Kind: KindContactChange, ClientID: c.ID, NeedsStaff: true,
	}); err != nil {
		return c, fmt.Errorf("recording the contact change of %s for staff: %w", c.ID, err)
	}
	if err := in.Store.FinishInbound(ctx, id); err != nil {
		return c, fmt.Errorf("recording the contact change of %s for staff: %w", c.ID, err)
	}
	if in.Logger != nil {
		in.Logger.Warn("contact change held for staff", "client", c.ID, "source", ev.Source, "inbox_id", id)
	}
	return c, nil
}

// afterApply runs the SessionHook for an applied session or client event,
// or for one whose earlier delivery applied it (see SessionHook).
func (in *Ingest) afterApply(ctx context.Context, msg jetstream.Msg, ev publishers.Event, res store.Result) error {
	if res.Reason == store.ReasonDuplicate {
		md, err := msg.Metadata()
		if err != nil || md.NumDelivered < 2 {
			return nil
		}
	}
	for _, job := range in.Jobs {
		if err := job.EventApplied(ctx, ev, res); err != nil {
			return fmt.Errorf("after applying %s %s: %w", ev.Type, ev.ID, err)
		}
	}
	if in.Sessions == nil {
		return nil
	}
	if !res.Applied && res.Reason != store.ReasonDuplicate {
		return nil
	}
	data, err := ev.DecodeData()
	if err != nil {
		return nil // Apply already refused it
	}
	switch d := data.(type) {
	case publishers.SessionBooked:
		err = in.Sessions.SessionChanged(ctx, ev.Type, d.SessionID)
	case publishers.SessionRescheduled:
		err = in.Sessions.SessionChanged(ctx, ev.Type, d.SessionID)
	case publishers.SessionCancelled:
		err = in.Sessions.SessionChanged(ctx, ev.Type, d.SessionID)
	case publishers.ClientUpserted:
		err = in.Sessions.ClientChanged(ctx, d.ClientID)
	}
	if err != nil {
		return fmt.Errorf("after applying %s %s: %w", ev.Type, ev.ID, err)
	}
	return nil
}
