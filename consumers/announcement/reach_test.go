package announcement

import (
	"testing"
	"time"

	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/vocab"
)

func TestDecide(t *testing.T) {
	granted := store.ConsentState{Active: true}
	revoked := store.ConsentState{Active: false}
	member := func(phone, email string, preferred vocab.Channel, consent map[vocab.Channel]store.ConsentState, suppressed map[vocab.Channel]bool) store.AudienceMember {
		return store.AudienceMember{ClientID: "c", Known: true, Client: store.Client{ID: "c", FirstName: "Ana", Phone: phone, Email: email,
			PreferredChannel: preferred}, Consent: consent, Suppressed: suppressed}
	}
	both := map[vocab.Channel]store.ConsentState{"sms": granted, "email": granted}
	now := time.Now()
	cases := []struct {
		name     string
		m        store.AudienceMember
		channels []vocab.Channel
		paused   bool
		want     string // channel, or "-reason"
	}{
		{"sms by default", member("+1", "a@x", "", both, nil), nil, false, "sms"},
		{"preferred email first", member("+1", "a@x", "email", both, nil), nil, false, "email"},
		{"preferred channel not allowed", member("+1", "a@x", "email", both, nil), []vocab.Channel{"sms"}, false, "sms"},
		{"falls back to the consented channel", member("+1", "a@x", "sms", map[vocab.Channel]store.ConsentState{"email": granted}, nil), nil, false, "email"},
		{"no consent anywhere", member("+1", "a@x", "", nil, nil), nil, false, "-no_consent"},
		{"opted out beats no consent", member("+1", "a@x", "", map[vocab.Channel]store.ConsentState{"sms": revoked}, nil), nil, false, "-opted_out"},
		{"suppressed address", member("+1", "", "", map[vocab.Channel]store.ConsentState{"sms": granted}, map[vocab.Channel]bool{"sms": true}), nil, false, "-suppressed"},
		{"no address", member("", "", "", both, nil), nil, false, "-no_address"},
		{"consent without an address on it", member("", "a@x", "", map[vocab.Channel]store.ConsentState{"sms": granted}, nil), nil, false, "-no_consent"},
		{"care pause", member("+1", "a@x", "", both, nil), nil, true, "-care_paused"},
		{"a pause that ended", func() store.AudienceMember {
			m := member("+1", "a@x", "", both, nil)
			m.CarePause = &store.CarePause{Active: true, Since: now.Add(-2 * time.Hour), Until: now.Add(-time.Hour)}
			return m
		}(), nil, false, "sms"},
		{"unknown client", store.AudienceMember{ClientID: "c"}, nil, false, "-unknown_client"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := c.m
			if c.paused {
				m.CarePause = &store.CarePause{Active: true, Since: now.Add(-time.Hour)}
			}
			r := Decide(m, c.channels, now)
			got := string(r.Channel)
			if !r.Reachable {
				got = "-" + string(r.Reason)
			}
			if got != c.want {
				t.Errorf("Decide = %+v, want %s", r, c.want)
			}
		})
	}
}
