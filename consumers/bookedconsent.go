package consumers

import (
	"context"
	"errors"
	"fmt"

	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/vocab"
	"github.com/nudgehq/nudge/publishers"
	"github.com/nudgehq/nudge/templates"
)

// BookedAfterConsentSuffix ends the key of a booked confirmation sent
// because the client's consent for reminders arrived after the booking.
const BookedAfterConsentSuffix = ":after-consent"

// EventApplied implements EventHook: a consent for reminders that arrives
// after a booking whose confirmation was skipped for want of it sends the
// confirmation now, for every session still ahead (once: its key is the
// booked key plus BookedAfterConsentSuffix). A session that has started
// gets nothing; the skipped row already says why (no_consent).
func (rs *ReminderScheduler) EventApplied(ctx context.Context, ev publishers.Event, _ store.Result) error {
	if ev.Type != publishers.TypeConsentGranted || !rs.cfg.BookedConfirmation {
		return nil
	}
	d, err := publishers.DataAs[publishers.ConsentChanged](ev)
	if err != nil || d.Purpose != vocab.Reminders {
		return nil
	}
	c, err := rs.store.GetClient(ctx, d.ClientID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading client %s: %w", d.ClientID, err)
	}
	ok, err := rs.store.HasConsent(ctx, c.ID, d.Channel, vocab.Reminders)
	if err != nil || !ok {
		return err
	}
	now := rs.now()
	sessions, err := rs.store.UpcomingSessions(ctx, c.ID, now)
	if err != nil {
		return fmt.Errorf("reading upcoming sessions of %s: %w", c.ID, err)
	}
	loc := clientLocation(c)
	for _, s := range sessions {
		row, err := rs.store.GetDeliveryByKey(ctx, BookedKey(s.ID, d.Channel))
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("reading the booked confirmation of %s: %w", s.ID, err)
		}
		if row.State != store.DeliverySkipped || row.Reason != string(vocab.SkipNoConsent) {
			continue
		}
		vars := map[string]any{
			"When":         templates.FormatWhen(s.StartsAt, loc, c.Locale),
			"Link":         rs.link(s),
			"LocationKind": s.LocationKind,
		}
		if err := rs.confirmAs(ctx, BookedKey(s.ID, d.Channel)+BookedAfterConsentSuffix, s, c, d.Channel, vars, now, loc); err != nil {
			return err
		}
		rs.log.Info("booked confirmation sent after consent arrived", "session", s.ID)
	}
	return nil
}
