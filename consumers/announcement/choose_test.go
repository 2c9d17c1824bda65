package announcement

import (
	"testing"
	"time"

	"github.com/nudgehq/nudge/consumers"
	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/store/sqlite"
	"github.com/nudgehq/nudge/internal/vocab"
)

// TestDecideAgreesWithChooseChannel keeps the fan-out's batch decision
// and the one channel rule every client-initiated purpose uses
// (consumers.ChooseChannel) from drifting apart.
func TestDecideAgreesWithChooseChannel(t *testing.T) {
	ctx := t.Context()
	st, err := sqlite.Open(ctx, t.TempDir()+"/nudge.db")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	at := time.Now().Add(-time.Hour)
	seq := 0
	var ids []string
	for _, preferred := range []vocab.Channel{"", vocab.SMS, vocab.Email} {
		for _, phone := range []string{"", "+14155550100"} {
			for _, email := range []string{"", "a@example.com"} {
				for _, consent := range [][]vocab.Channel{nil, {vocab.SMS}, {vocab.Email}, {vocab.SMS, vocab.Email}} {
					seq++
					id := "c" + string(rune('A'+seq/26)) + string(rune('a'+seq%26))
					ids = append(ids, id)
					c := store.Client{ID: id, FirstName: "A", Timezone: "UTC", Phone: phone, Email: email, PreferredChannel: preferred}
					if _, err := st.ApplyClientUpsert(ctx, store.EventRef{ID: "u" + id, Time: at}, c); err != nil {
						t.Fatal(err)
					}
					for _, ch := range consent {
						if _, err := st.AppendConsent(ctx, store.EventRef{ID: "k" + id + string(ch), Time: at}, store.ConsentEntry{
							ClientID: id, Channel: ch, Purpose: vocab.Announcements, Action: store.ConsentGranted, Source: "t"}); err != nil {
							t.Fatal(err)
						}
					}
				}
			}
		}
	}
	reach, err := Audience{Store: st}.Reach(ctx, ids, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range reach {
		c, err := st.GetClient(ctx, r.ClientID)
		if err != nil {
			t.Fatal(err)
		}
		ch, ok, err := consumers.ChooseChannel(ctx, st, c, vocab.Announcements)
		if err != nil {
			t.Fatal(err)
		}
		if ok != r.Reachable || ch != r.Channel {
			t.Errorf("client %+v: Decide = %+v, ChooseChannel = %q %v", c, r, ch, ok)
		}
	}
}
