package storetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/vocab"
)

func testGroupUpsert(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, err := s.GetGroup(ctx, "g1")
	wantErr(t, "unknown group", err, store.ErrNotFound)

	res, err := s.ApplyGroupUpsert(ctx, ev("g-e1", "group.upserted", at(0)), store.Group{ID: "g1", Name: "Tuesday circle"})
	wantResult(t, "name", res, err, applied)
	res, err = s.ApplyGroupUpsert(ctx, ev("g-e1", "group.upserted", at(0)), store.Group{ID: "g1", Name: "Tuesday circle"})
	wantResult(t, "replay", res, err, duplicate)
	res, err = s.ApplyGroupUpsert(ctx, ev("g-e2", "group.upserted", at(10)), store.Group{ID: "g1", Name: "Wednesday circle"})
	wantResult(t, "rename", res, err, applied)
	res, err = s.ApplyGroupUpsert(ctx, ev("g-e3", "group.upserted", at(5)), store.Group{ID: "g1", Name: "Old name"})
	wantResult(t, "older name", res, err, stale)

	for _, c := range []string{"c-b", "c-a", "c-c"} {
		_, err := s.ApplyGroupMembership(ctx, ev("m-"+c, "group.member_added", at(1)), "g1", c, true)
		noErr(t, "add member", err)
	}
	_, err = s.ApplyGroupMembership(ctx, ev("m-rm", "group.member_removed", at(2)), "g1", "c-c", false)
	noErr(t, "remove member", err)
	// A group with members but no name yet is still a group.
	_, err = s.ApplyGroupMembership(ctx, ev("m-x", "group.member_added", at(1)), "g0", "c-a", true)
	noErr(t, "add to unnamed group", err)

	g, err := s.GetGroup(ctx, "g1")
	noErr(t, "get", err)
	wantEqual(t, "name", g.Name, "Wednesday circle")
	wantEqual(t, "member count counts active members", g.MemberCount, 2)
	wantTime(t, "updated at", g.UpdatedAt, at(10))

	groups, err := s.ListGroups(ctx)
	noErr(t, "list", err)
	wantEqual(t, "groups", len(groups), 2)
	wantEqual(t, "sorted by id", groups[0].ID, "g0")
	wantEqual(t, "unnamed", groups[0].Name, "")
	wantEqual(t, "unnamed members", groups[0].MemberCount, 1)

	page, err := s.GroupMembersAfter(ctx, "g1", "", 1)
	noErr(t, "page 1", err)
	wantDeep(t, "page 1", page, []string{"c-a"})
	page, err = s.GroupMembersAfter(ctx, "g1", "c-a", 10)
	noErr(t, "page 2", err)
	wantDeep(t, "page 2", page, []string{"c-b"})

	_, err = s.ApplyGroupUpsert(ctx, ev("g-bad", "group.upserted", at(0)), store.Group{ID: "g2"})
	wantErr(t, "no name", err, store.ErrInvalid)
}

func testAudience(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := ana()
	_, err := s.ApplyClientUpsert(ctx, ev("c1", "client.upserted", at(0)), a)
	noErr(t, "client", err)
	grant := func(id string, channel vocab.Channel, action store.ConsentAction, purpose vocab.Purpose, min int) {
		t.Helper()
		_, err := s.AppendConsent(ctx, ev(id, "consent."+string(action), at(min)), store.ConsentEntry{
			ClientID: a.ID, Channel: channel, Purpose: purpose, Action: action, Source: "test", OccurredAt: at(min)})
		noErr(t, id, err)
	}
	grant("k1", vocab.SMS, store.ConsentGranted, vocab.Announcements, 1)
	grant("k2", vocab.Email, store.ConsentGranted, vocab.Announcements, 1)
	grant("k3", vocab.Email, store.ConsentRevoked, vocab.Announcements, 3)
	grant("k4", vocab.Email, store.ConsentGranted, vocab.Announcements, 2) // older than the revoke
	grant("k5", vocab.SMS, store.ConsentRevoked, vocab.Reminders, 4)       // another purpose
	noErr(t, "suppress", s.Suppress(ctx, store.Suppression{Channel: vocab.Email, Address: "ANA@example.com", Reason: "bounce"}))

	_, err = s.ApplyCarePause(ctx, ev("p1", "client.care_paused", at(5)), store.CarePause{ClientID: a.ID, RequestedBy: "dr-lee"})
	noErr(t, "pause", err)

	got, err := s.Audience(ctx, []string{"c-nobody", a.ID}, vocab.Announcements)
	noErr(t, "audience", err)
	wantEqual(t, "one row per id, in order", len(got), 2)
	wantEqual(t, "unknown id", got[0].ClientID, "c-nobody")
	wantEqual(t, "unknown client", got[0].Known, false)
	m := got[1]
	wantEqual(t, "known", m.Known, true)
	wantEqual(t, "profile", m.Client.Phone, a.Phone)
	wantEqual(t, "sms consent active", m.Consent[vocab.SMS].Active, true)
	wantEqual(t, "email consent: the newest entry wins", m.Consent[vocab.Email].Active, false)
	wantEqual(t, "email suppressed, case-insensitively", m.Suppressed[vocab.Email], true)
	wantEqual(t, "sms not suppressed", m.Suppressed[vocab.SMS], false)
	if m.CarePause == nil || !m.CarePause.InForce(at(6)) {
		t.Fatalf("care pause: got %+v, want one in force", m.CarePause)
	}
	wantEqual(t, "no pause for the unknown client", got[0].CarePause == nil, true)

	empty, err := s.Audience(ctx, nil, vocab.Announcements)
	noErr(t, "empty audience", err)
	wantEqual(t, "empty", len(empty), 0)
}

func testAnnouncementLifecycle(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := store.Announcement{ID: "a1", GroupID: "g1", Body: "Room 4 tonight.", Channels: []vocab.Channel{"sms"}, RequestedBy: "staff:dana", EventID: "ev-a1"}
	got, created, err := s.CreateAnnouncement(ctx, a)
	noErr(t, "create", err)
	wantEqual(t, "created", created, true)
	wantEqual(t, "queued", got.State, store.AnnouncementQueued)
	wantDeep(t, "channels", got.Channels, []vocab.Channel{"sms"})
	again := a
	again.Body = "Something else"
	got, created, err = s.CreateAnnouncement(ctx, again)
	noErr(t, "create again", err)
	wantEqual(t, "a repeated id creates nothing", created, false)
	wantEqual(t, "and keeps the first body", got.Body, "Room 4 tonight.")
	_, _, err = s.CreateAnnouncement(ctx, store.Announcement{ID: "a2", GroupID: "g1", Body: "x", Template: "y"})
	wantErr(t, "body and template", err, store.ErrInvalid)

	key := func(c string) string { return "announcement:a1:" + c + ":sms" }
	rs := []store.Recipient{
		{AnnouncementID: "a1", ClientID: "c1", Channel: "sms", Key: key("c1"), State: store.RecipientReady},
		{AnnouncementID: "a1", ClientID: "c2", Channel: "sms", Key: key("c2"), State: store.RecipientReady},
		{AnnouncementID: "a1", ClientID: "c3", Channel: "sms", Key: key("c3"), State: store.RecipientReady},
		{AnnouncementID: "a1", ClientID: "c4", Channel: "sms", Key: key("c4"), State: store.RecipientReady},
		{AnnouncementID: "a1", ClientID: "c5", State: store.RecipientSkipped, Reason: "no_consent"},
	}
	noErr(t, "add", s.AddRecipients(ctx, rs))
	dup := rs[0]
	dup.State, dup.Reason = store.RecipientSkipped, "opted_out"
	noErr(t, "add again", s.AddRecipients(ctx, []store.Recipient{dup}))
	last, err := s.LastRecipient(ctx, "a1")
	noErr(t, "last", err)
	wantEqual(t, "last recipient", last, "c5")

	got, err = s.FinishPlanning(ctx, "a1")
	noErr(t, "finish planning", err)
	wantEqual(t, "sending", got.State, store.AnnouncementSending)
	wantEqual(t, "total: a member is recorded once", got.Total, 5)
	wantEqual(t, "planned", got.Planned, true)

	ready, err := s.ReadyRecipients(ctx, "a1", 3)
	noErr(t, "ready", err)
	ids := func(rs []store.Recipient) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.ClientID)
		}
		return out
	}
	wantDeep(t, "ready by client id", ids(ready), []string{"c1", "c2", "c3"})
	noErr(t, "queue", s.SetRecipientState(ctx, "a1", []string{"c1", "c2", "c3"}, store.RecipientQueued))

	// The ledger: c1 sent, c2 deferred (pending), c3 not yet there.
	for _, d := range []store.Delivery{
		{ID: "d1", IdempotencyKey: key("c1"), ClientID: "c1", Channel: "sms", State: store.DeliverySent},
		{ID: "d2", IdempotencyKey: key("c2"), ClientID: "c2", Channel: "sms", State: store.DeliveryPending},
	} {
		_, _, err := s.CreateDelivery(ctx, d)
		noErr(t, "delivery", err)
	}
	queued, err := s.PendingRecipients(ctx, "a1", store.RecipientQueued, 10)
	noErr(t, "queued", err)
	wantDeep(t, "queued", ids(queued), []string{"c1", "c2", "c3"})
	wantDeep(t, "ledger states", []store.DeliveryState{queued[0].LedgerState, queued[1].LedgerState, queued[2].LedgerState},
		[]store.DeliveryState{store.DeliverySent, store.DeliveryPending, ""})

	tally, err := s.TallyAnnouncement(ctx, "a1")
	noErr(t, "tally", err)
	wantDeep(t, "tally", tally, store.AnnouncementTally{Total: 5, Queued: 2, Sent: 1, Skipped: 1, Deferred: 1,
		SkippedBy: map[vocab.SkipReason]int{"no_consent": 1}, ByChannel: map[vocab.Channel]int{"sms": 3}})

	// Only the owner or someone after the lease ran out may feed.
	ok, err := s.LeaseAnnouncement(ctx, "a1", "p1", at(0), at(1))
	noErr(t, "lease", err)
	wantEqual(t, "first lease", ok, true)
	ok, _ = s.LeaseAnnouncement(ctx, "a1", "p2", at(0), at(1))
	wantEqual(t, "held lease", ok, false)
	ok, _ = s.LeaseAnnouncement(ctx, "a1", "p1", at(0).Add(30*time.Second), at(2))
	wantEqual(t, "renewal", ok, true)
	ok, _ = s.LeaseAnnouncement(ctx, "a1", "p2", at(3), at(4))
	wantEqual(t, "expired lease", ok, true)

	active, err := s.ActiveAnnouncements(ctx)
	noErr(t, "active", err)
	wantEqual(t, "active", len(active), 1)

	// Cancel: c4 (never queued) is cancelled, the deferred c2 is settled in
	// the ledger, c3 (on the bus) is left to the deliverer's check.
	got, changed, err := s.CancelAnnouncement(ctx, "a1", "staff:dana", "staff")
	noErr(t, "cancel", err)
	wantEqual(t, "changed", changed, true)
	wantEqual(t, "cancelled", got.State, store.AnnouncementCancelled)
	wantEqual(t, "by", got.CancelledBy, "staff:dana")
	d2, err := s.GetDeliveryByKey(ctx, key("c2"))
	noErr(t, "d2", err)
	wantEqual(t, "deferred delivery skipped", d2.State, store.DeliverySkipped)
	wantEqual(t, "reason", d2.Reason, string(vocab.SkipAnnouncementCancelled))
	tally, err = s.TallyAnnouncement(ctx, "a1")
	noErr(t, "tally after cancel", err)
	wantEqual(t, "cancelled count", tally.Cancelled, 2)
	wantEqual(t, "still queued", tally.Queued, 1)
	_, changed, err = s.CancelAnnouncement(ctx, "a1", "staff:dana", "staff")
	noErr(t, "cancel again", err)
	wantEqual(t, "cancel twice", changed, false)

	got, err = s.CompleteAnnouncement(ctx, "a1")
	noErr(t, "complete", err)
	wantEqual(t, "a cancelled announcement stays cancelled", got.State, store.AnnouncementCancelled)
	active, err = s.ActiveAnnouncements(ctx)
	noErr(t, "active after complete", err)
	wantEqual(t, "none active", len(active), 0)

	// A plain run: sending → done.
	_, _, err = s.CreateAnnouncement(ctx, store.Announcement{ID: "b1", GroupID: "g1", Template: "group_moved", RequestedBy: "api-token"})
	noErr(t, "create b1", err)
	_, err = s.FinishPlanning(ctx, "b1")
	noErr(t, "plan b1", err)
	got, err = s.CompleteAnnouncement(ctx, "b1")
	noErr(t, "complete b1", err)
	wantEqual(t, "done", got.State, store.AnnouncementDone)

	list, err := s.ListAnnouncements(ctx, store.AnnouncementFilter{GroupID: "g1"})
	noErr(t, "list", err)
	wantDeep(t, "newest first", []string{list[0].ID, list[1].ID}, []string{"b1", "a1"})
	list, err = s.ListAnnouncements(ctx, store.AnnouncementFilter{State: store.AnnouncementDone})
	noErr(t, "list done", err)
	wantEqual(t, "by state", len(list), 1)
	_, err = s.GetAnnouncement(ctx, "nope")
	wantErr(t, "unknown", err, store.ErrNotFound)
}

// wantDeep is wantEqual for values == cannot compare (slices, maps).
func wantDeep[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: got %+v, want %+v", what, got, want)
	}
}
