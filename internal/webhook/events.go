package webhook

import (
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
