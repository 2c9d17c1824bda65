package httpapi

import (
	"testing"
	"time"

	"github.com/nudgehq/nudge/internal/store"
)

func TestReminderViewMergesTheLedger(t *testing.T) {
	now := time.Date(2030, 3, 4, 12, 0, 0, 0, time.UTC)
	r := store.Reminder{
		Key: "reminder:S1:v1:48h:sms", SessionID: "S1", SessionVersion: 1, ClientID: "c1", Offset: 48 * time.Hour,
		Channel: "sms", FireAt: now.Add(time.Hour), NotAfter: now.Add(90 * time.Minute), State: store.ReminderScheduled,
		Reason: "quiet_hours_moved_earlier",
	}
	for _, c := range []struct {
		name       string
		r          store.Reminder
		d          *store.Delivery
		now        time.Time
		state, why string
	}{
		{"scheduled", r, nil, now, "scheduled", "quiet_hours_moved_earlier"},
		{"sending", r, &store.Delivery{State: store.DeliverySending}, now, "sending", ""},
		{"sent", r, &store.Delivery{State: store.DeliverySent}, now, "sent", ""},
		{"delivered", r, &store.Delivery{State: store.DeliveryDelivered}, now, "sent", ""},
		{"skipped at fire time", r, &store.Delivery{State: store.DeliverySkipped, Reason: "cancelled"}, now, "skipped", "cancelled"},
		{"failed", r, &store.Delivery{State: store.DeliveryFailed, Reason: "twilio:21211"}, now, "failed", "twilio:21211"},
		{"expired unread on the stream", r, nil, now.Add(2 * time.Hour), "skipped", "expired"},
		{"cancelled", func() store.Reminder { c := r; c.State, c.Reason = store.ReminderCancelled, "moved"; return c }(), nil, now, "cancelled", "moved"},
	} {
		v := newReminderView(c.r, c.d, c.now)
		if v.State != c.state || v.Reason != c.why || v.Offset != "48h" {
			t.Errorf("%s: %s %q offset %s, want %s %q", c.name, v.State, v.Reason, v.Offset, c.state, c.why)
		}
	}
}
