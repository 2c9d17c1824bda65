package storetest

import (
	"testing"

	"github.com/nudgehq/nudge/internal/store"
)

func testDeferrals(t *testing.T, s store.Store) {
	ctx := t.Context()
	got, err := s.DeferralsOf(ctx, []string{"journal:c-ana:2030-03-04"})
	noErr(t, "DeferralsOf none", err)
	wantEqual(t, "none yet", len(got), 0)
	got, err = s.DeferralsOf(ctx, nil)
	noErr(t, "DeferralsOf no keys", err)
	wantEqual(t, "no keys", len(got), 0)

	noErr(t, "SetDeferral", s.SetDeferral(ctx, store.Deferral{Key: "journal:c-ana:2030-03-04", NotBefore: at(60), Why: "quiet_hours"}))
	noErr(t, "SetDeferral again", s.SetDeferral(ctx, store.Deferral{Key: "journal:c-ana:2030-03-04", NotBefore: at(120), Why: "cadence_daily_cap"}))
	noErr(t, "SetDeferral other", s.SetDeferral(ctx, store.Deferral{Key: "ann:1:c-bo", NotBefore: at(30), Why: "quiet_hours"}))
	keys := []string{"journal:c-ana:2030-03-04", "ann:1:c-bo", "missing"}
	for i := range 250 { // more keys than one query binds
		keys = append(keys, "filler:"+string(rune('a'+i%26))+string(rune('a'+i/26)))
	}
	got, err = s.DeferralsOf(ctx, keys)
	noErr(t, "DeferralsOf", err)
	wantEqual(t, "found", len(got), 2)
	d := got["journal:c-ana:2030-03-04"]
	wantTime(t, "replaced not_before", d.NotBefore, at(120))
	wantEqual(t, "replaced why", d.Why, "cadence_daily_cap")
	wantTime(t, "other", got["ann:1:c-bo"].NotBefore, at(30))

	wantErr(t, "no key", s.SetDeferral(ctx, store.Deferral{NotBefore: at(1)}), store.ErrInvalid)
	wantErr(t, "no time", s.SetDeferral(ctx, store.Deferral{Key: "k"}), store.ErrInvalid)
}
