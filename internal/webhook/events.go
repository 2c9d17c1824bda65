package webhook

import (
	"context"
	"fmt"

	"github.com/nudgehq/nudge/publishers"
)

// eventSource is the CloudEvents source of everything emitted here.
const eventSource = "/nudge/webhooks"

// Ids of emitted events derive from their cause, so emitting one again (a
// retried webhook finishing a partial attempt, two deliveries of one
// callback racing) is the same event: JetStream drops the repeat within its
// duplicate window and consumers can recognise it beyond.
func deliveryEventID(deliveryID, state string) string { return "delivery:" + deliveryID + ":" + state }
func optOutEventID(cause, clientID string) string     { return "opted-out:" + cause + ":" + clientID }
func crisisEventID(messageID, clientID string) string { return "crisis:" + messageID + ":" + clientID }
func confirmedEventID(messageID string) string        { return "confirmed:" + messageID }
func rescheduleEventID(messageID string) string       { return "reschedule:" + messageID }

// emit builds an emitted event with the given id and emits it. subject is
// the optional CloudEvents subject.
func (h *Handler) emit(ctx context.Context, id, subject, typ string, data any) error {
	ev, err := h.event(id, subject, typ, data)
	if err != nil {
		return err
	}
	if err := h.cfg.Dispatcher.Emit(ctx, ev); err != nil {
		return fmt.Errorf("emitting %s %s: %w", typ, id, err)
	}
	return nil
}

// event builds and validates an emitted event.
func (h *Handler) event(id, subject, typ string, data any) (publishers.Event, error) {
	ev, err := publishers.NewEvent(typ, eventSource, data)
	if err != nil {
		return ev, fmt.Errorf("building %s %s: %w", typ, id, err)
	}
	ev = ev.WithID(id).WithTime(h.now())
	ev.Subject = subject
	if err := ev.ValidateEmitted(); err != nil {
		return ev, fmt.Errorf("building %s %s: %w", typ, id, err)
	}
	return ev, nil
}
