package consumers

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nudgehq/nudge/internal/bus"
	"github.com/nudgehq/nudge/internal/bus/bustest"
	"github.com/nudgehq/nudge/internal/subject"
)

// TestJetStreamSchedules runs the reminder bus on a real server: a
// schedule fires once onto the notify subject with a TTL, a replaced
// schedule fires only in its new form, and an unscheduled one never.
func TestJetStreamSchedules(t *testing.T) {
	js := bustest.JetStream(t)
	ctx := t.Context()
	sb := &JetStreamSchedules{JS: js}
	cons, err := js.CreateConsumer(ctx, bus.StreamNotify, jetstream.ConsumerConfig{FilterSubject: "nudge.notify.>", AckPolicy: jetstream.AckNonePolicy})
	if err != nil {
		t.Fatal(err)
	}
	n := func(key string) Notification {
		return Notification{Key: key, ClientID: "c1", Channel: "sms", Purpose: "reminders", Kind: "reminder"}
	}
	at := time.Now().Add(2 * time.Second)
	// Far beyond the stream's 30-day MaxAge: the schedule message must not
	// be aged out before it fires (Nats-TTL never).
	if err := sb.Schedule(ctx, subject.Reminder("S0", 48*time.Hour), n("far"), time.Now().Add(90*24*time.Hour), time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := sb.Schedule(ctx, subject.Reminder("S1", 2*time.Hour), n("v1"), at, time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := sb.Schedule(ctx, subject.Reminder("S1", 2*time.Hour), n("v2"), at, time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := sb.Schedule(ctx, subject.Reminder("S2", 2*time.Hour), n("cancelled"), at, time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := sb.Unschedule(ctx, subject.Reminder("S2", 2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := sb.Unschedule(ctx, subject.Reminder("S-none", 2*time.Hour)); err != nil {
		t.Fatalf("unscheduling nothing: %v", err)
	}

	batch, err := cons.Fetch(10, jetstream.FetchMaxWait(3500*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for m := range batch.Messages() {
		dn, err := DecodeNotification(m.Data())
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, dn.Key)
		if m.Subject() != "nudge.notify.sms" || m.Headers().Get(jetstream.MsgTTLHeader) != "1m0s" {
			t.Errorf("generated message on %s with TTL %q", m.Subject(), m.Headers().Get(jetstream.MsgTTLHeader))
		}
		if late := time.Since(at.Truncate(time.Second)); late > 1500*time.Millisecond {
			t.Errorf("fired %v after its time", late)
		}
	}
	if len(got) != 1 || got[0] != "v2" {
		t.Fatalf("fired %v, want only the replacement v2", got)
	}
	st, err := js.Stream(ctx, bus.StreamNotify)
	if err != nil {
		t.Fatal(err)
	}
	far, err := st.GetLastMsgForSubject(ctx, subject.Reminder("S0", 48*time.Hour))
	if err != nil {
		t.Fatalf("the far schedule is gone: %v", err)
	}
	if ttl := far.Header.Get(jetstream.MsgTTLHeader); ttl != "never" {
		t.Errorf("schedule message Nats-TTL %q, want never (MaxAge must not drop it)", ttl)
	}
}
