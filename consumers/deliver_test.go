package consumers

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nudgehq/nudge/internal/channel"
	"github.com/nudgehq/nudge/internal/fakeprovider"
	"github.com/nudgehq/nudge/internal/quiethours"
	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/store/sqlite"
	"github.com/nudgehq/nudge/internal/store/sqlstore"
	"github.com/nudgehq/nudge/internal/vocab"
	"github.com/nudgehq/nudge/publishers"
	"github.com/nudgehq/nudge/templates"
)

// recordingDispatcher records deferrals instead of scheduling them.
type recordingDispatcher struct {
	mu       sync.Mutex
	notified []Notification
	deferred map[string]time.Time
	emitted  []publishers.Event
}

func (r *recordingDispatcher) Notify(_ context.Context, n Notification) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.notified = append(r.notified, n)
	return nil
}

func (r *recordingDispatcher) NotifyAt(_ context.Context, n Notification, t time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.deferred == nil {
		r.deferred = map[string]time.Time{}
	}
	r.deferred[n.Key] = t
	return nil
}

func (r *recordingDispatcher) Emit(_ context.Context, ev publishers.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.emitted = append(r.emitted, ev)
	return nil
}

type deliverFixture struct {
	st     store.Store
	dl     *Deliverer
	twilio *fakeprovider.Twilio
	sg     *fakeprovider.SendGrid
	disp   *recordingDispatcher
	now    time.Time
}

func newDeliverFixture(t *testing.T) *deliverFixture {
	t.Helper()
	ctx := t.Context()
	f := &deliverFixture{disp: &recordingDispatcher{}}
	// Noon in New York: inside the quiet-hours window. The store shares
	// the fixture's clock so ledger times and check times agree.
	f.now = time.Date(2026, 3, 10, 16, 0, 0, 0, time.UTC)
	st, err := sqlite.Open(ctx, t.TempDir()+"/nudge.db", sqlstore.WithClock(func() time.Time { return f.now }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	tw := fakeprovider.NewTwilio(fakeprovider.TwilioConfig{})
	tws, err := tw.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tws.Close() })
	sg := fakeprovider.NewSendGrid(fakeprovider.SendGridConfig{})
	sgs, err := sg.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sgs.Close() })
	sms, err := channel.NewTwilio(channel.TwilioConfig{AccountSid: tw.AccountSid(), AuthToken: tw.AuthToken(), From: "+15005550006", BaseURL: tws.URL, HTTPTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	email, err := channel.NewSendGrid(channel.SendGridConfig{APIKey: sg.APIKey(), FromEmail: "hello@practice.example", BaseURL: sgs.URL, HTTPTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := templates.Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	f.st, f.twilio, f.sg = st, tw, sg
	f.dl = &Deliverer{
		Store:      st,
		Senders:    map[vocab.Channel]channel.Sender{"sms": sms, "email": email},
		Templates:  tmpl,
		Dispatcher: f.disp,
		Practice:   Practice{Name: "Harbor Practice", PostalAddress: "1 Main St", CrisisLine: "988", PublicURL: "https://nudge.example.org"},
		Now:        func() time.Time { return f.now },
		Checks: []Check{
			Expiry(), Consent(st), Suppression(st), SessionFresh(st),
			QuietHours(quiethours.Default), Cadence(st, quiethours.DefaultCadence()),
		},
	}
	f.client(t, "c1", "+14155550101", "c1@example.org")
	return f
}

func (f *deliverFixture) client(t *testing.T, id, phone, email string) {
	t.Helper()
	_, err := f.st.ApplyClientUpsert(t.Context(), store.EventRef{ID: "up-" + id, Type: "client.upserted", Time: f.now.Add(-time.Hour)},
		store.Client{ID: id, FirstName: "Ada", Timezone: "America/New_York", Phone: phone, Email: email})
	if err != nil {
		t.Fatal(err)
	}
}

func (f *deliverFixture) consent(t *testing.T, client string, ch vocab.Channel, purpose vocab.Purpose, action store.ConsentAction) {
	t.Helper()
	_, err := f.st.AppendConsent(t.Context(), store.EventRef{}, store.ConsentEntry{
		ClientID: client, Channel: ch, Purpose: purpose, Action: action, Source: "test", OccurredAt: f.now.Add(-time.Minute),
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (f *deliverFixture) ledger(t *testing.T, key string) store.Delivery {
	t.Helper()
	d, err := f.st.GetDeliveryByKey(t.Context(), key)
	if err != nil {
		t.Fatalf("ledger row %s: %v", key, err)
	}
	return d
}

func announcement(key string) Notification {
	return Notification{Key: key, ClientID: "c1", Channel: "sms", Purpose: vocab.Announcements, Kind: "announcement",
		Vars: map[string]any{"Body": "Group meets Thursday at 6."}}
}

func outbound(tw *fakeprovider.Twilio) []fakeprovider.CapturedMessage {
	var out []fakeprovider.CapturedMessage
	for _, m := range tw.Messages() {
		if m.Direction != "inbound" {
			out = append(out, m)
		}
	}
	return out
}

func TestDeliverSendsOnceWithConsent(t *testing.T) {
	f := newDeliverFixture(t)
	f.consent(t, "c1", "sms", vocab.Announcements, store.ConsentGranted)
	n := announcement("ann:1:c1:sms")
	for range 3 { // redelivered, repeated: still one message
		if err := f.dl.Deliver(t.Context(), n); err != nil {
			t.Fatal(err)
		}
	}
	msgs := outbound(f.twilio)
	if len(msgs) != 1 {
		t.Fatalf("fake Twilio got %d messages, want 1", len(msgs))
	}
	if msgs[0].To != "+14155550101" || !strings.Contains(msgs[0].Body, "Group meets Thursday at 6.") || !strings.Contains(msgs[0].Body, "Harbor Practice") {
		t.Errorf("message = %+v", msgs[0])
	}
	d := f.ledger(t, n.Key)
	if d.State != store.DeliverySent || d.ProviderID != msgs[0].ID || d.Attempts != 1 {
		t.Errorf("ledger = %+v, want sent with provider id %s after 1 attempt", d, msgs[0].ID)
	}
}

func TestDeliverSkipsWithoutConsent(t *testing.T) {
	f := newDeliverFixture(t)
	// Consent for another purpose and another channel does not count.
	f.consent(t, "c1", "sms", vocab.Reminders, store.ConsentGranted)
	f.consent(t, "c1", "email", vocab.Announcements, store.ConsentGranted)
	n := announcement("ann:2:c1:sms")
	if err := f.dl.Deliver(t.Context(), n); err != nil {
		t.Fatal(err)
	}
	if d := f.ledger(t, n.Key); d.State != store.DeliverySkipped || d.Reason != string(vocab.SkipNoConsent) {
		t.Errorf("ledger = %s %q, want skipped no_consent", d.State, d.Reason)
	}
	// Granted then revoked is no consent either.
	f.consent(t, "c1", "sms", vocab.Announcements, store.ConsentGranted)
	f.consent(t, "c1", "sms", vocab.Announcements, store.ConsentRevoked)
	n2 := announcement("ann:3:c1:sms")
	if err := f.dl.Deliver(t.Context(), n2); err != nil {
		t.Fatal(err)
	}
	if d := f.ledger(t, n2.Key); d.Reason != string(vocab.SkipNoConsent) {
		t.Errorf("after revoke: ledger reason %q, want no_consent", d.Reason)
	}
	if n := len(outbound(f.twilio)); n != 0 {
		t.Fatalf("sent %d messages without consent", n)
	}
}

func TestDeliverSuppressedAndOptedOut(t *testing.T) {
	f := newDeliverFixture(t)
	ctx := t.Context()
	f.consent(t, "c1", "sms", vocab.Announcements, store.ConsentGranted)
	if err := f.st.Suppress(ctx, store.Suppression{Channel: "sms", Address: "+14155550101", Reason: "test"}); err != nil {
		t.Fatal(err)
	}
	n := announcement("ann:4:c1:sms")
	if err := f.dl.Deliver(ctx, n); err != nil {
		t.Fatal(err)
	}
	if d := f.ledger(t, n.Key); d.Reason != string(vocab.SkipSuppressed) {
		t.Errorf("suppressed: reason %q", d.Reason)
	}
	// After STOP (every purpose revoked), a HELP reply is not sent, but the
	// one opt-out confirmation is.
	f.consent(t, "c1", "sms", vocab.Announcements, store.ConsentRevoked)
	help := Notification{Key: "reply:SM1", ClientID: "c1", Channel: "sms", Purpose: vocab.Replies, Kind: "help", Urgent: true}
	confirm := Notification{Key: "reply:SM2", ClientID: "c1", Channel: "sms", Purpose: vocab.Replies, Kind: "opted_out", Urgent: true}
	for _, n := range []Notification{help, confirm} {
		if err := f.dl.Deliver(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	if d := f.ledger(t, help.Key); d.State != store.DeliverySkipped {
		t.Errorf("help after opt-out: %s %q, want skipped", d.State, d.Reason)
	}
	if d := f.ledger(t, confirm.Key); d.State != store.DeliverySent {
		t.Errorf("opt-out confirmation: %s %q, want sent", d.State, d.Reason)
	}
	if got := len(outbound(f.twilio)); got != 1 {
		t.Errorf("sent %d messages, want only the confirmation", got)
	}
}

func TestDeliverCarrierOptOutRevokesConsent(t *testing.T) {
	f := newDeliverFixture(t)
	ctx := t.Context()
	f.consent(t, "c1", "sms", vocab.Announcements, store.ConsentGranted)
	f.consent(t, "c1", "sms", vocab.Reminders, store.ConsentGranted)
	f.twilio.FailNext(1, fakeprovider.TwilioError(21610))
	n := announcement("ann:5:c1:sms")
	if err := f.dl.Deliver(ctx, n); err != nil {
		t.Fatal(err)
	}
	if d := f.ledger(t, n.Key); d.State != store.DeliveryFailed || d.Reason != "recipient_unsubscribed" {
		t.Errorf("ledger = %s %q", d.State, d.Reason)
	}
	for _, p := range []vocab.Purpose{vocab.Announcements, vocab.Reminders} {
		if ok, _ := f.st.HasConsent(ctx, "c1", "sms", p); ok {
			t.Errorf("consent for %s still active after 21610", p)
		}
	}
	if sup, _ := f.st.IsSuppressed(ctx, "sms", "+14155550101"); !sup {
		t.Error("address not suppressed after 21610")
	}
	// The same opt-out as an SMS STOP (package consent): every purpose
	// revoked with the source, and client.opted_out emitted.
	ledger, _ := f.st.ConsentLedger(ctx, "c1")
	var revoked int
	for _, e := range ledger {
		if e.Action == store.ConsentRevoked && e.Source == "twilio:21610" && e.Address == "+14155550101" {
			revoked++
		}
	}
	if revoked != len(vocab.ConsentPurposes()) {
		t.Errorf("%d 21610 revocations, want one per purpose", revoked)
	}
	f.disp.mu.Lock()
	defer f.disp.mu.Unlock()
	if len(f.disp.emitted) != 1 || f.disp.emitted[0].Type != publishers.TypeClientOptedOut {
		t.Errorf("emitted %+v, want one client.opted_out", f.disp.emitted)
	}
}

func TestDeliverTransientErrorsRetryWithoutDuplicates(t *testing.T) {
	f := newDeliverFixture(t)
	ctx := t.Context()
	f.consent(t, "c1", "sms", vocab.Announcements, store.ConsentGranted)

	// 429 with Retry-After: retry later, honouring the hint.
	f.twilio.FailNext(1, fakeprovider.RateLimited(7*time.Second))
	n := announcement("ann:6:c1:sms")
	err := f.dl.Deliver(ctx, n)
	var re retryError
	if !errors.As(err, &re) || re.after < 7*time.Second {
		t.Fatalf("429: err = %v, want a retry after ≥ 7s", err)
	}
	if d := f.ledger(t, n.Key); d.State != store.DeliverySending {
		t.Fatalf("after 429 ledger = %s, want sending", d.State)
	}
	// Redelivered at once, the attempt may still be in another worker's
	// hands: nothing is sent until its lease runs out.
	if err := f.dl.Deliver(ctx, n); !errors.As(err, &re) {
		t.Fatalf("redelivery inside the lease: err = %v, want a retry", err)
	}
	if got := len(outbound(f.twilio)); got != 0 {
		t.Fatalf("a redelivery inside the lease sent %d messages", got)
	}
	f.now = f.now.Add(DefaultInFlightLease)
	if err := f.dl.Deliver(ctx, n); err != nil {
		t.Fatal(err)
	}
	if got := len(outbound(f.twilio)); got != 1 {
		t.Fatalf("after 429 and retry: %d messages, want 1", got)
	}

	// The provider accepts but the response is lost: the retry finds the
	// message at the provider and records it instead of sending again.
	f.twilio.FailNext(1, fakeprovider.LostResponse())
	n2 := announcement("ann:7:c1:sms")
	n2.Vars = map[string]any{"Body": "A different note."}
	if err := f.dl.Deliver(ctx, n2); err == nil {
		t.Fatal("lost response: Deliver returned nil")
	}
	f.now = f.now.Add(DefaultInFlightLease)
	if err := f.dl.Deliver(ctx, n2); err != nil {
		t.Fatal(err)
	}
	msgs := outbound(f.twilio)
	if len(msgs) != 2 {
		t.Fatalf("after lost response and retry: %d messages, want 2", len(msgs))
	}
	if d := f.ledger(t, n2.Key); d.State != store.DeliverySent || d.ProviderID != msgs[len(msgs)-1].ID && d.ProviderID != msgs[0].ID {
		t.Errorf("reconciled ledger = %+v", d)
	}
}

func TestDeliverPermanentFailuresAndExpiry(t *testing.T) {
	f := newDeliverFixture(t)
	ctx := t.Context()
	f.consent(t, "c1", "sms", vocab.Announcements, store.ConsentGranted)

	f.twilio.FailNext(1, fakeprovider.TwilioError(21211))
	n := announcement("ann:8:c1:sms")
	if err := f.dl.Deliver(ctx, n); err != nil {
		t.Fatal(err)
	}
	if d := f.ledger(t, n.Key); d.State != store.DeliveryFailed || !strings.Contains(d.Reason, "21211") {
		t.Errorf("21211: ledger = %s %q", d.State, d.Reason)
	}

	missing := Notification{Key: "ann:9:c1:sms", ClientID: "c1", Channel: "sms", Purpose: vocab.Announcements, Kind: "announcement"}
	if err := f.dl.Deliver(ctx, missing); err != nil {
		t.Fatal(err)
	}
	if d := f.ledger(t, missing.Key); d.State != store.DeliveryFailed || !strings.Contains(d.Reason, "Body") {
		t.Errorf("missing template variable: ledger = %s %q", d.State, d.Reason)
	}

	old := announcement("ann:10:c1:sms")
	old.NotAfter = f.now.Add(-time.Minute)
	if err := f.dl.Deliver(ctx, old); err != nil {
		t.Fatal(err)
	}
	if d := f.ledger(t, old.Key); d.Reason != string(vocab.SkipExpired) {
		t.Errorf("expired: reason %q", d.Reason)
	}
	if got := len(outbound(f.twilio)); got != 0 {
		t.Errorf("%d messages sent, want 0", got)
	}
}

func TestDeliverSessionFreshness(t *testing.T) {
	f := newDeliverFixture(t)
	ctx := t.Context()
	f.consent(t, "c1", "sms", vocab.Reminders, store.ConsentGranted)
	starts := f.now.Add(48 * time.Hour)
	ref := func(id string, d time.Duration) store.EventRef {
		return store.EventRef{ID: id, Type: "x", Time: f.now.Add(d)}
	}
	for _, id := range []string{"S1", "S2", "S3"} {
		if _, err := f.st.ApplySessionBooked(ctx, ref("b"+id, -time.Hour), store.Session{ID: id, ClientID: "c1", StartsAt: starts}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.st.ApplySessionCancelled(ctx, ref("c", -time.Minute), "S2", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.ApplySessionRescheduled(ctx, ref("r", -time.Minute), "S3", starts.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	reminder := func(session string) Notification {
		return Notification{Key: "reminder:" + session + ":v1:48h:sms", ClientID: "c1", Channel: "sms", Purpose: vocab.Reminders,
			Kind: "reminder", SessionID: session, SessionVersion: 1,
			Vars: map[string]any{"When": "Thu 3:00 PM", "Link": "", "LocationKind": "in_person"}}
	}
	want := map[string]string{"S1": "", "S2": string(vocab.SkipCancelled), "S3": string(vocab.SkipMoved)}
	for session, reason := range want {
		n := reminder(session)
		if err := f.dl.Deliver(ctx, n); err != nil {
			t.Fatal(err)
		}
		d := f.ledger(t, n.Key)
		if reason == "" && d.State != store.DeliverySent {
			t.Errorf("%s: %s %q, want sent", session, d.State, d.Reason)
		}
		if reason != "" && d.Reason != reason {
			t.Errorf("%s: reason %q, want %q", session, d.Reason, reason)
		}
	}
	if got := len(outbound(f.twilio)); got != 1 {
		t.Errorf("%d reminders sent, want 1", got)
	}
}

func TestDeliverDefersQuietHoursAndCadence(t *testing.T) {
	f := newDeliverFixture(t)
	ctx := t.Context()
	f.consent(t, "c1", "sms", vocab.Encouragement, store.ConsentGranted)
	enc := func(key string) Notification {
		return Notification{Key: key, ClientID: "c1", Channel: "sms", Purpose: vocab.Encouragement, Kind: "encouragement",
			Vars: map[string]any{"Message": "Be gentle with yourself today."}}
	}
	// 23:30 in New York: deferred to 08:00 next morning, not dropped.
	f.now = time.Date(2026, 3, 11, 3, 30, 0, 0, time.UTC)
	if err := f.dl.Deliver(ctx, enc("enc:1")); err != nil {
		t.Fatal(err)
	}
	wantAt := time.Date(2026, 3, 11, 12, 0, 0, 0, time.UTC) // 08:00 EDT
	if got := f.disp.deferred["enc:1"]; !got.Equal(wantAt) {
		t.Errorf("deferred until %v, want %v", got, wantAt)
	}
	if d := f.ledger(t, "enc:1"); d.State != store.DeliveryPending {
		t.Errorf("deferred ledger state %s, want pending", d.State)
	}
	if df, err := f.st.DeferralsOf(ctx, []string{"enc:1"}); err != nil || !df["enc:1"].NotBefore.Equal(wantAt) || df["enc:1"].Why != "quiet_hours" {
		t.Errorf("deferral = %+v %v, want not before %v for quiet_hours", df, err, wantAt)
	}
	// At 08:00 it goes; a second encouragement the same day is skipped by
	// the cadence cap (its schedule fires again: nothing is carried over).
	f.now = wantAt
	if err := f.dl.Deliver(ctx, enc("enc:1")); err != nil {
		t.Fatal(err)
	}
	if err := f.dl.Deliver(ctx, enc("enc:2")); err != nil {
		t.Fatal(err)
	}
	if got := len(outbound(f.twilio)); got != 1 {
		t.Fatalf("%d encouragements sent, want 1", got)
	}
	if d := f.ledger(t, "enc:2"); d.State != store.DeliverySkipped || d.Reason != "cadence_daily_cap" {
		t.Errorf("second encouragement: %s %q, want skipped cadence_daily_cap", d.State, d.Reason)
	}
	// A journal nudge over its cap is deferred, not dropped.
	f.consent(t, "c1", "sms", vocab.Journal, store.ConsentGranted)
	j := func(key string) Notification {
		return Notification{Key: key, ClientID: "c1", Channel: "sms", Purpose: vocab.Journal, Kind: "journal_nudge"}
	}
	for _, k := range []string{"journal:1", "journal:2"} {
		if err := f.dl.Deliver(ctx, j(k)); err != nil {
			t.Fatal(err)
		}
	}
	if got := f.disp.deferred["journal:2"]; !got.After(f.now) {
		t.Errorf("second journal nudge deferred until %v, want a later day", got)
	}
}

func TestDeliverEmailCarriesOnlyDeliveryID(t *testing.T) {
	f := newDeliverFixture(t)
	ctx := t.Context()
	f.consent(t, "c1", "email", vocab.Announcements, store.ConsentGranted)
	n := Notification{Key: "ann:e1", ClientID: "c1", Channel: "email", Purpose: vocab.Announcements, Kind: "announcement",
		Vars: map[string]any{"Body": "Group meets Thursday at 6."}}
	if err := f.dl.Deliver(ctx, n); err != nil {
		t.Fatal(err)
	}
	msgs := f.sg.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d emails, want 1", len(msgs))
	}
	d := f.ledger(t, n.Key)
	if len(msgs[0].CustomArgs) != 1 || msgs[0].CustomArgs["delivery_id"] != d.ID {
		t.Errorf("custom_args = %v, want only delivery_id=%s", msgs[0].CustomArgs, d.ID)
	}
	if !strings.Contains(msgs[0].Text, "https://nudge.example.org/u/"+d.ID) || !strings.Contains(msgs[0].Text, "1 Main St") {
		t.Errorf("email lacks the unsubscribe link or postal address:\n%s", msgs[0].Text)
	}
}

// A reply tied to a session (the acknowledgement of C) shows the session's
// day and time in the client's own zone, which the deliverer fills in.
func TestDeliverFillsWhenForSessionReplies(t *testing.T) {
	f := newDeliverFixture(t)
	starts := time.Date(2026, 3, 12, 19, 0, 0, 0, time.UTC) // 3:00 PM in New York (EDT)
	n := Notification{Key: "reply:SMc", ClientID: "c1", Channel: "sms", Purpose: vocab.Replies, Kind: "confirmed",
		Urgent: true, SessionID: "S9", SessionVersion: 0, SessionStarts: starts}
	if _, err := f.st.ApplySessionBooked(t.Context(), store.EventRef{ID: "b9", Type: "x", Time: f.now.Add(-time.Hour)},
		store.Session{ID: "S9", ClientID: "c1", StartsAt: starts}); err != nil {
		t.Fatal(err)
	}
	if err := f.dl.Deliver(t.Context(), n); err != nil {
		t.Fatal(err)
	}
	msgs := outbound(f.twilio)
	if len(msgs) != 1 || !strings.Contains(msgs[0].Body, "3:00 PM") {
		t.Fatalf("confirmation = %v, want the session time in New York", msgs)
	}
}

// Several workers holding the same notification at once (redelivery racing
// a slow provider call, two processes): exactly one calls the provider.
func TestDeliverConcurrentWorkersSendOnce(t *testing.T) {
	f := newDeliverFixture(t)
	f.consent(t, "c1", "sms", vocab.Announcements, store.ConsentGranted)
	f.twilio.SetLatency(200 * time.Millisecond)
	n := announcement("ann:race:c1:sms")
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = f.dl.Deliver(t.Context(), n) // losers are told to retry later
		}()
	}
	wg.Wait()
	if got := len(outbound(f.twilio)); got != 1 {
		t.Fatalf("%d messages for one notification delivered by 8 workers at once, want 1", got)
	}
	if d := f.ledger(t, n.Key); d.State != store.DeliverySent || d.Attempts != 1 {
		t.Errorf("ledger = %s after %d attempts, want sent after 1", d.State, d.Attempts)
	}
}

// Issue 9, defect 3: consent given for one phone number does not follow the
// client to a new one. The check asks about the address the message goes
// to; the new number has no SMS consent until it is granted for it.
func TestDeliverChangedPhoneHasNoConsentUntilGranted(t *testing.T) {
	f := newDeliverFixture(t)
	f.consent(t, "c1", vocab.SMS, vocab.Announcements, store.ConsentGranted)
	_, err := f.st.ApplyClientUpsert(t.Context(), store.EventRef{ID: "up-c1-new-phone", Type: "client.upserted", Time: f.now.Add(-30 * time.Second)},
		store.Client{ID: "c1", FirstName: "Ada", Timezone: "America/New_York", Phone: "+14155550199", Email: "c1@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	n := announcement("ann:new-phone:1")
	if err := f.dl.Deliver(t.Context(), n); err != nil {
		t.Fatal(err)
	}
	if d := f.ledger(t, n.Key); d.State != store.DeliverySkipped || d.Reason != string(vocab.SkipNoConsent) || d.To != "+14155550199" {
		t.Fatalf("ledger = %+v, want skipped no_consent for the new number", d)
	}
	if len(outbound(f.twilio)) != 0 {
		t.Fatal("a message went to the new number without consent for it")
	}
	f.consent(t, "c1", vocab.SMS, vocab.Announcements, store.ConsentGranted) // granted for the new number
	n2 := announcement("ann:new-phone:2")
	if err := f.dl.Deliver(t.Context(), n2); err != nil {
		t.Fatal(err)
	}
	if msgs := outbound(f.twilio); len(msgs) != 1 || msgs[0].To != "+14155550199" {
		t.Fatalf("after the grant: %+v, want one message to the new number", msgs)
	}
}

// A client who changed number and texts from the new one is not "opted
// out" there because of what the old number's ledger says: its replies go.
func TestDeliverReplyToChangedNumberIsNotOptedOut(t *testing.T) {
	f := newDeliverFixture(t)
	f.consent(t, "c1", vocab.SMS, vocab.Reminders, store.ConsentGranted)
	_, err := f.st.AppendConsent(t.Context(), store.EventRef{}, store.ConsentEntry{ // STOP from the old number
		ClientID: "c1", Channel: vocab.SMS, Purpose: vocab.Reminders, Action: store.ConsentRevoked,
		Address: "+14155550101", Source: "sms:STOP", OccurredAt: f.now.Add(-40 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.st.ApplyClientUpsert(t.Context(), store.EventRef{ID: "up-c1-b", Type: "client.upserted", Time: f.now.Add(-30 * time.Second)},
		store.Client{ID: "c1", FirstName: "Ada", Timezone: "America/New_York", Phone: "+14155550199"})
	if err != nil {
		t.Fatal(err)
	}
	n := Notification{Key: "reply:SMhelp", ClientID: "c1", Channel: vocab.SMS, Purpose: vocab.Replies, Kind: templates.KindHelp,
		To: "+14155550199", Urgent: true}
	if err := f.dl.Deliver(t.Context(), n); err != nil {
		t.Fatal(err)
	}
	if d := f.ledger(t, n.Key); d.State != store.DeliverySent {
		t.Fatalf("reply to the new number: %s %q", d.State, d.Reason)
	}
}
