package consent_test

import (
	"context"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nudgehq/nudge/internal/consent"
	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/store/postgres"
	"github.com/nudgehq/nudge/internal/store/postgres/pgtest"
	"github.com/nudgehq/nudge/internal/store/sqlite"
	"github.com/nudgehq/nudge/internal/vocab"
	"github.com/nudgehq/nudge/publishers"
)

// stores runs fn against both stores.
func stores(t *testing.T, fn func(t *testing.T, st store.Store)) {
	t.Run("sqlite", func(t *testing.T) {
		st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "nudge.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		fn(t, st)
	})
	t.Run("postgres", func(t *testing.T) {
		st, err := postgres.Open(t.Context(), pgtest.NewSchemaURL(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		fn(t, st)
	})
}

type emitted struct {
	mu     sync.Mutex
	events []publishers.Event
}

func (e *emitted) Emit(_ context.Context, ev publishers.Event) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.events = append(e.events, ev)
	return nil
}

var now = time.Date(2030, 5, 6, 14, 0, 0, 0, time.UTC)

// seed stores two clients sharing one phone and one email (a family), each
// with every purpose granted on both channels, and a stranger.
func seed(t *testing.T, st store.Store) {
	t.Helper()
	ctx := t.Context()
	for _, id := range []string{"c-ana", "c-ben"} {
		_, err := st.ApplyClientUpsert(ctx, store.EventRef{ID: "u-" + id, Type: "client.upserted", Time: now.Add(-48 * time.Hour)},
			store.Client{ID: id, FirstName: "A", Timezone: "UTC", Phone: "+14155550100", Email: "home@example.org"})
		if err != nil {
			t.Fatal(err)
		}
		for _, ch := range vocab.Channels() {
			for _, p := range vocab.ConsentPurposes() {
				_, err := st.AppendConsent(ctx, store.EventRef{ID: "g-" + id + string(ch) + string(p), Type: "consent.granted", Time: now.Add(-24 * time.Hour)},
					store.ConsentEntry{ClientID: id, Channel: ch, Purpose: p, Action: store.ConsentGranted, Source: "intake", WordingVersion: "v3"})
				if err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}

// TestOptOutSameEffects is the one table: an SMS STOP, Twilio's 21610, a
// SendGrid unsubscribe and a spam report all have the same effects on
// their channel — every purpose revoked for every client at the address
// (with the source in the ledger), client.opted_out for each, the address
// suppressed — and a replay of the same cause changes nothing.
func TestOptOutSameEffects(t *testing.T) {
	cases := []struct {
		name        string
		o           consent.OptOut
		ledgerSrc   string
		eventSrc    string
		eventKW     string
		otherActive vocab.Channel // the other channel keeps its consent
	}{
		{"sms STOP", consent.OptOut{Reason: consent.SMSKeyword, Keyword: "STOP", Address: "+14155550100", Cause: "SM1"},
			"sms:STOP", "sms_keyword", "STOP", vocab.Email},
		{"twilio 21610", consent.OptOut{Reason: consent.Twilio21610, Address: "+14155550100", Cause: "twilio-21610:dlv_1", ClientID: "c-ana"},
			"twilio:21610", "twilio_21610", "", vocab.Email},
		{"sendgrid unsubscribe", consent.OptOut{Reason: consent.SendGridUnsubscribe, Address: "Home@Example.org", Cause: "sendgrid:ev1"},
			"sendgrid:unsubscribe", "sendgrid_unsubscribe", "", vocab.SMS},
		{"sendgrid spam report", consent.OptOut{Reason: consent.SendGridSpamReport, Address: "home@example.org", Cause: "sendgrid:ev2"},
			"sendgrid:spamreport", "sendgrid_spamreport", "", vocab.SMS},
		{"sendgrid group unsubscribe", consent.OptOut{Reason: consent.SendGridGroupUnsubscribe, Address: "home@example.org", Cause: "sendgrid:ev3"},
			"sendgrid:group_unsubscribe", "sendgrid_group_unsubscribe", "", vocab.SMS},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stores(t, func(t *testing.T, st store.Store) {
				ctx := t.Context()
				seed(t, st)
				em := &emitted{}
				l, err := consent.New(consent.Config{Store: st, Emitter: em, Now: func() time.Time { return now }})
				if err != nil {
					t.Fatal(err)
				}
				ch := c.o.Reason.Channel()
				for attempt := range 2 { // the second is a redelivery of the same cause
					out, err := l.OptOut(ctx, c.o)
					if err != nil {
						t.Fatal(err)
					}
					if !slices.Equal(out.Clients, []string{"c-ana", "c-ben"}) || out.WasSuppressed != (attempt == 1) {
						t.Fatalf("attempt %d: outcome %+v", attempt, out)
					}
				}
				for _, id := range []string{"c-ana", "c-ben"} {
					for _, p := range vocab.ConsentPurposes() {
						if ok, _ := st.HasConsent(ctx, id, ch, p); ok {
							t.Errorf("%s still has %s/%s consent", id, ch, p)
						}
						if ok, _ := st.HasConsent(ctx, id, c.otherActive, p); !ok {
							t.Errorf("%s lost %s/%s consent", id, c.otherActive, p)
						}
					}
					ledger, err := st.ConsentLedger(ctx, id)
					if err != nil {
						t.Fatal(err)
					}
					var revoked int
					for _, e := range ledger {
						if e.Action == store.ConsentRevoked {
							revoked++
							if e.Source != c.ledgerSrc || e.Channel != ch || e.Address != store.NormalizeAddress(ch, c.o.Address) {
								t.Errorf("revocation %+v", e)
							}
						}
					}
					if revoked != len(vocab.ConsentPurposes()) {
						t.Errorf("%s: %d revocations, want one per purpose (the replay appends none)", id, revoked)
					}
				}
				if ok, _ := st.IsSuppressed(ctx, ch, c.o.Address); !ok {
					t.Error("address not suppressed")
				}
				ids := map[string]bool{}
				for _, ev := range em.events {
					ids[ev.ID] = true
					v, err := ev.DecodeData()
					if err != nil {
						t.Fatal(err)
					}
					d, _ := v.(publishers.ClientOptedOut)
					if ev.Type != publishers.TypeClientOptedOut || d.Channel != ch || d.Source != c.eventSrc || d.Keyword != c.eventKW {
						t.Errorf("event %s %+v", ev.Type, d)
					}
				}
				if len(ids) != 2 || !ids[consent.OptOutEventID(c.o.Cause, "c-ana")] || !ids[consent.OptOutEventID(c.o.Cause, "c-ben")] {
					t.Errorf("events %v: want one client.opted_out per client, the same id on replay", ids)
				}
			})
		})
	}
}

// START restores exactly what the client's own STOP revoked, for the
// number that said it: not a purpose staff revoked, not a purpose the
// client never granted.
func TestOptInRestoresOnlyKeywordRevocations(t *testing.T) {
	stores(t, func(t *testing.T, st store.Store) {
		ctx := t.Context()
		_, err := st.ApplyClientUpsert(ctx, store.EventRef{ID: "u1", Type: "client.upserted", Time: now.Add(-48 * time.Hour)},
			store.Client{ID: "c-ana", FirstName: "Ana", Timezone: "UTC", Phone: "+14155550100"})
		if err != nil {
			t.Fatal(err)
		}
		grant := func(id string, p vocab.Purpose, action store.ConsentAction, at time.Time) {
			t.Helper()
			_, err := st.AppendConsent(ctx, store.EventRef{ID: id, Type: "consent." + string(action), Time: at},
				store.ConsentEntry{ClientID: "c-ana", Channel: vocab.SMS, Purpose: p, Action: action, Source: "intake", WordingVersion: "v7"})
			if err != nil {
				t.Fatal(err)
			}
		}
		grant("g1", vocab.Reminders, store.ConsentGranted, now.Add(-5*time.Hour))
		grant("g2", vocab.Encouragement, store.ConsentGranted, now.Add(-5*time.Hour))
		grant("r2", vocab.Encouragement, store.ConsentRevoked, now.Add(-4*time.Hour)) // staff revoked it
		em := &emitted{}
		clock := now.Add(-time.Hour)
		l, err := consent.New(consent.Config{Store: st, Emitter: em, Now: func() time.Time { return clock }})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.OptOut(ctx, consent.OptOut{Reason: consent.SMSKeyword, Keyword: "STOP", Address: "+14155550100", Cause: "SM1"}); err != nil {
			t.Fatal(err)
		}
		clock = now
		for range 2 {
			if _, err := l.OptIn(ctx, consent.OptIn{Channel: vocab.SMS, Address: "+14155550100", Keyword: "START", Cause: "SM2"}); err != nil {
				t.Fatal(err)
			}
		}
		for p, want := range map[vocab.Purpose]bool{vocab.Reminders: true, vocab.Encouragement: false, vocab.Journal: false, vocab.Announcements: false} {
			if ok, _ := st.HasConsent(ctx, "c-ana", vocab.SMS, p); ok != want {
				t.Errorf("%s after START: %v, want %v", p, ok, want)
			}
		}
		if ok, _ := st.IsSuppressed(ctx, vocab.SMS, "+14155550100"); ok {
			t.Error("START left the number suppressed")
		}
		ledger, _ := st.ConsentLedger(ctx, "c-ana")
		last := ledger[len(ledger)-1]
		if last.Source != "sms:START" || last.WordingVersion != "v7" || last.Purpose != vocab.Reminders || last.Address != "+14155550100" {
			t.Errorf("re-grant %+v", last)
		}
		if len(ledger) != 3+4+1 {
			t.Errorf("ledger has %d entries, want 8 (a replayed START appends nothing)", len(ledger))
		}
	})
}
