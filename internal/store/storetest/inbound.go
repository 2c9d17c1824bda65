package storetest

import (
	"testing"
	"time"

	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/vocab"
)

func inbound(id string, minute int) store.InboundMessage {
	return store.InboundMessage{
		ID: id, Channel: vocab.SMS, From: "+15555550100", To: "+15555550000",
		Body: "can we talk about friday", Kind: "unknown", ClientID: "c-ana", ReceivedAt: at(minute),
	}
}

func getInbound(t *testing.T, s store.Store, id string) store.InboundMessage {
	t.Helper()
	m, err := s.GetInbound(t.Context(), id)
	noErr(t, "GetInbound "+id, err)
	return m
}

func recordInbound(t *testing.T, s store.Store, m store.InboundMessage) {
	t.Helper()
	created, err := s.RecordInbound(t.Context(), m)
	noErr(t, "RecordInbound "+m.ID, err)
	if !created {
		t.Fatalf("RecordInbound %s: not created", m.ID)
	}
}

// The inbound webhook is retried by the provider: a message is stored once,
// and a replay, even with a different payload, changes nothing.
func testInboundRecord(t *testing.T, s store.Store) {
	ctx := t.Context()
	m := inbound("SM1", 0)
	m.NeedsStaff = true
	recordInbound(t, s, m)

	got := getInbound(t, s, "SM1")
	wantTime(t, "ReceivedAt", got.ReceivedAt, at(0))
	want := m
	want.ReceivedAt = got.ReceivedAt
	wantEqual(t, "stored message", got, want)

	replay := inbound("SM1", 5)
	replay.Body, replay.Kind, replay.NeedsStaff = "STOP", "opt_out", false
	created, err := s.RecordInbound(ctx, replay)
	noErr(t, "replayed RecordInbound", err)
	wantEqual(t, "replay created", created, false)
	wantEqual(t, "message after replay", getInbound(t, s, "SM1"), got)

	stranger := inbound("SM2", 1)
	stranger.ClientID, stranger.ReceivedAt = "", time.Time{}
	recordInbound(t, s, stranger)
	got = getInbound(t, s, "SM2")
	wantEqual(t, "no client", got.ClientID, "")
	if got.ReceivedAt.IsZero() {
		t.Fatal("ReceivedAt does not default to now")
	}

	_, err = s.GetInbound(ctx, "SM-never")
	wantErr(t, "unknown message", err, store.ErrNotFound)
	for name, mutate := range map[string]func(*store.InboundMessage){
		"empty id":        func(m *store.InboundMessage) { m.ID = "" },
		"empty sender":    func(m *store.InboundMessage) { m.From = "" },
		"unknown channel": func(m *store.InboundMessage) { m.Channel = "fax" },
	} {
		m := inbound("SM-invalid", 0)
		mutate(&m)
		_, err := s.RecordInbound(ctx, m)
		wantErr(t, name, err, store.ErrInvalid)
	}
	_, err = s.GetInbound(ctx, "SM-invalid")
	wantErr(t, "refused messages are not stored", err, store.ErrNotFound)
}

// ProcessedAt tells a retried webhook whether the first attempt finished.
func testInboundFinish(t *testing.T, s store.Store) {
	ctx := t.Context()
	recordInbound(t, s, inbound("SM1", 0))
	noErr(t, "FinishInbound", s.FinishInbound(ctx, "SM1"))
	first := getInbound(t, s, "SM1")
	if first.ProcessedAt.IsZero() {
		t.Fatal("ProcessedAt not set")
	}
	noErr(t, "FinishInbound again", s.FinishInbound(ctx, "SM1"))
	wantTime(t, "the first ProcessedAt stays", getInbound(t, s, "SM1").ProcessedAt, first.ProcessedAt)
	wantErr(t, "unknown message", s.FinishInbound(ctx, "SM-never"), store.ErrNotFound)
	wantErr(t, "empty id", s.FinishInbound(ctx, ""), store.ErrInvalid)
}

// The staff inbox lists what needs a person until someone resolves it.
func testInbox(t *testing.T, s store.Store) {
	ctx := t.Context()
	for i, needs := range []bool{true, false, true, true} {
		m := inbound("SM"+string(rune('a'+i)), i)
		m.NeedsStaff = needs
		recordInbound(t, s, m)
	}
	ids := func(f store.InboxFilter) string {
		t.Helper()
		got, err := s.ListInbox(ctx, f)
		noErr(t, "ListInbox", err)
		var out string
		for _, m := range got {
			out += m.ID + " "
		}
		return out
	}
	wantEqual(t, "everything, newest first", ids(store.InboxFilter{}), "SMd SMc SMb SMa ")
	wantEqual(t, "open inbox", ids(store.InboxFilter{NeedsStaff: true}), "SMd SMc SMa ")
	wantEqual(t, "limit", ids(store.InboxFilter{NeedsStaff: true, Limit: 2}), "SMd SMc ")

	resolved, err := s.ResolveInbound(ctx, "SMc", "staff:alice")
	noErr(t, "ResolveInbound", err)
	if !resolved.Handled || resolved.HandledBy != "staff:alice" || resolved.HandledAt.IsZero() {
		t.Fatalf("resolved message: %+v", resolved)
	}
	wantEqual(t, "returned row is the stored row", getInbound(t, s, "SMc"), resolved)
	wantEqual(t, "open inbox after resolving", ids(store.InboxFilter{NeedsStaff: true}), "SMd SMa ")
	wantEqual(t, "resolved messages stay listed", ids(store.InboxFilter{}), "SMd SMc SMb SMa ")

	audit, err := s.ListAudit(ctx, 10)
	noErr(t, "ListAudit", err)
	wantEqual(t, "audit entries", len(audit), 1)
	wantEqual(t, "audit entry", [3]string{audit[0].Actor, audit[0].Action, audit[0].Target},
		[3]string{"staff:alice", "inbox.resolved", "SMc"})

	again, err := s.ResolveInbound(ctx, "SMc", "staff:bob")
	noErr(t, "ResolveInbound again", err)
	wantEqual(t, "a second resolve changes nothing", again, resolved)
	audit, err = s.ListAudit(ctx, 10)
	noErr(t, "ListAudit", err)
	wantEqual(t, "audit entries after a second resolve", len(audit), 1)

	_, err = s.ResolveInbound(ctx, "SM-never", "staff:alice")
	wantErr(t, "unknown message", err, store.ErrNotFound)
	_, err = s.ResolveInbound(ctx, "SMa", "")
	wantErr(t, "no staff", err, store.ErrInvalid)
}

// Provider events (SendGrid sg_event_id) are applied once.
func testProviderEvents(t *testing.T, s store.Store) {
	ctx := t.Context()
	e := store.ProviderEvent{Provider: "sendgrid", EventID: "ev-1", Outcome: "delivered"}
	_, err := s.GetProviderEvent(ctx, "sendgrid", "ev-1")
	wantErr(t, "before recording", err, store.ErrNotFound)

	created, err := s.RecordProviderEvent(ctx, e)
	noErr(t, "RecordProviderEvent", err)
	wantEqual(t, "created", created, true)
	replay := e
	replay.Outcome = "something else"
	created, err = s.RecordProviderEvent(ctx, replay)
	noErr(t, "replay", err)
	wantEqual(t, "replay created", created, false)

	got, err := s.GetProviderEvent(ctx, "sendgrid", "ev-1")
	noErr(t, "GetProviderEvent", err)
	if got.RecordedAt.IsZero() {
		t.Fatal("RecordedAt not set")
	}
	got.RecordedAt = time.Time{}
	wantEqual(t, "record keeps the first outcome", got, e)

	created, err = s.RecordProviderEvent(ctx, store.ProviderEvent{Provider: "other", EventID: "ev-1"})
	noErr(t, "same id, other provider", err)
	wantEqual(t, "ids are per provider", created, true)
	_, err = s.RecordProviderEvent(ctx, store.ProviderEvent{Provider: "sendgrid"})
	wantErr(t, "empty id", err, store.ErrInvalid)
	_, err = s.RecordProviderEvent(ctx, store.ProviderEvent{EventID: "ev-2"})
	wantErr(t, "empty provider", err, store.ErrInvalid)
}

// Inbound messages and provider events name an address; a family may share
// one phone or email.
func testClientsByAddress(t *testing.T, s store.Store) {
	ctx := t.Context()
	upsert := func(id, phone, email string) {
		c := ana()
		c.ID, c.Phone, c.Email = id, phone, email
		res, err := s.ApplyClientUpsert(ctx, ev("cu-"+id, "client.upserted", at(0)), c)
		wantResult(t, "upsert "+id, res, err, applied)
	}
	upsert("c-ben", "+15555550100", "Family@Example.com")
	upsert("c-ana", "+15555550100", "ana@example.com")
	upsert("c-cy", "+15555550199", "")
	upsert("c-dee", "", "family@example.com")

	find := func(channel vocab.Channel, address string) string {
		t.Helper()
		got, err := s.ClientsByAddress(ctx, channel, address)
		noErr(t, "ClientsByAddress", err)
		var out string
		for _, c := range got {
			out += c.ID + " "
		}
		return out
	}
	wantEqual(t, "family phone, sorted by id", find(vocab.SMS, "+15555550100"), "c-ana c-ben ")
	wantEqual(t, "one phone", find(vocab.SMS, "+15555550199"), "c-cy ")
	wantEqual(t, "phones match exactly", find(vocab.SMS, "15555550199"), "")
	wantEqual(t, "email is case-insensitive", find(vocab.Email, "FAMILY@example.COM"), "c-ben c-dee ")
	wantEqual(t, "channels do not mix", find(vocab.Email, "+15555550100"), "")
	wantEqual(t, "no match", find(vocab.SMS, "+15555550111"), "")

	got, err := s.ClientsByAddress(ctx, vocab.SMS, "+15555550199")
	noErr(t, "ClientsByAddress", err)
	c := ana()
	c.ID, c.Phone, c.Email = "c-cy", "+15555550199", ""
	c.UpdatedAt, c.CreatedAt = got[0].UpdatedAt, got[0].CreatedAt
	wantEqual(t, "full client", got[0], c)

	_, err = s.ClientsByAddress(ctx, vocab.SMS, "")
	wantErr(t, "empty address", err, store.ErrInvalid)
	_, err = s.ClientsByAddress(ctx, "fax", "+15555550100")
	wantErr(t, "unknown channel", err, store.ErrInvalid)
}
