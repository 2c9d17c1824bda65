package consumers

import (
	"testing"

	"github.com/nudgehq/nudge/internal/fakeprovider"
	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/vocab"
)

func TestChooseChannelByConsent(t *testing.T) {
	f := newDeliverFixture(t)
	ctx := t.Context()
	c, err := f.st.GetClient(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	choose := func(c store.Client) string {
		t.Helper()
		ch, ok, err := ChooseChannel(ctx, f.st, c, vocab.Encouragement)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return string(NoChannelReason(c))
		}
		return string(ch)
	}
	if got := choose(c); got != string(vocab.SkipNoConsent) {
		t.Errorf("no consent at all: %q, want no_consent", got)
	}
	f.consent(t, "c1", "email", vocab.Encouragement, store.ConsentGranted)
	if got := choose(c); got != "email" {
		t.Errorf("preferred sms without consent, email consented: %q, want email", got)
	}
	f.consent(t, "c1", "sms", vocab.Encouragement, store.ConsentGranted)
	if got := choose(c); got != "sms" {
		t.Errorf("both consented, default preference: %q, want sms", got)
	}
	c.PreferredChannel = "email"
	if got := choose(c); got != "email" {
		t.Errorf("both consented, prefers email: %q, want email", got)
	}
	c.Email = ""
	if got := choose(c); got != "sms" {
		t.Errorf("prefers email but has no address there: %q, want sms", got)
	}
	c.Phone = ""
	if got := choose(c); got != string(vocab.SkipNoAddress) {
		t.Errorf("no address: %q, want no_address", got)
	}
	// Consent for another purpose does not count.
	f.consent(t, "c1", "sms", vocab.Encouragement, store.ConsentRevoked)
	f.consent(t, "c1", "sms", vocab.Journal, store.ConsentGranted)
	c, _ = f.st.GetClient(ctx, "c1")
	if got := choose(c); got != "email" {
		t.Errorf("sms consent only for journal: %q, want email", got)
	}
}

func TestLandlineFallsBackToEmailOnce(t *testing.T) {
	f := newDeliverFixture(t)
	f.consent(t, "c1", "sms", vocab.Announcements, store.ConsentGranted)
	f.consent(t, "c1", "email", vocab.Announcements, store.ConsentGranted)
	f.twilio.FailNext(1, fakeprovider.TwilioError(21614))
	n := announcement("ann:land:c1")
	if d := f.deliver(t, n); d.State != store.DeliveryFailed {
		t.Fatalf("landline sms: %s %q, want failed", d.State, d.Reason)
	}
	if len(f.disp.notified) != 1 {
		t.Fatalf("queued %d fallbacks, want 1", len(f.disp.notified))
	}
	fb := f.disp.notified[0]
	if fb.Channel != "email" || fb.Key != n.Key+FallbackSuffix || fb.Purpose != n.Purpose {
		t.Fatalf("fallback = %+v", fb)
	}
	if d := f.deliver(t, fb); d.State != store.DeliverySent {
		t.Fatalf("email fallback: %s %q, want sent", d.State, d.Reason)
	}
	if got := len(f.sg.Messages()); got != 1 {
		t.Errorf("SendGrid got %d messages, want 1", got)
	}

	// Without email consent there is no fallback; an error that is about
	// the message, not the number, never falls back.
	f.consent(t, "c1", "email", vocab.Announcements, store.ConsentRevoked)
	f.twilio.FailNext(1, fakeprovider.TwilioError(21614))
	f.deliver(t, announcement("ann:land2:c1"))
	f.consent(t, "c1", "email", vocab.Announcements, store.ConsentGranted)
	f.twilio.FailNext(1, fakeprovider.TwilioError(21617)) // body too long
	f.deliver(t, announcement("ann:long:c1"))
	if len(f.disp.notified) != 1 {
		t.Errorf("queued %d fallbacks in all, want only the first", len(f.disp.notified))
	}
}
