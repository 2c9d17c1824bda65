package storetest

import (
	"fmt"
	"testing"

	"github.com/nudgehq/nudge/internal/store"
)

// Issue 9, defect 5 (invariant 9 in docs/invariants.md): open crisis messages lead the inbox. A
// thousand ordinary texts that arrived after two crisis messages do not
// push them off the first page, in the open inbox or in the full list; a
// resolved crisis falls back into date order.
func testInboxCrisisFirst(t *testing.T, s store.Store) {
	ctx := t.Context()
	for i, id := range []string{"SMcrisis-old", "SMcrisis-new"} {
		m := inbound(id, i)
		m.Kind, m.NeedsStaff, m.Body = "crisis", true, "i can't go on"
		recordInbound(t, s, m)
	}
	for i := range 1000 {
		m := inbound(fmt.Sprintf("SM%04d", i), 10+i)
		m.NeedsStaff = true
		recordInbound(t, s, m)
	}
	for _, f := range []store.InboxFilter{{NeedsStaff: true, Limit: 100}, {Limit: 100}} {
		page, err := s.ListInbox(ctx, f)
		noErr(t, "ListInbox", err)
		wantEqual(t, "page size", len(page), 100)
		wantEqual(t, "first", page[0].ID, "SMcrisis-new")
		wantEqual(t, "second", page[1].ID, "SMcrisis-old")
		wantEqual(t, "then the newest ordinary text", page[2].ID, "SM0999")
	}
	_, err := s.ResolveInbound(ctx, "SMcrisis-new", "staff:alice")
	noErr(t, "ResolveInbound", err)
	page, err := s.ListInbox(ctx, store.InboxFilter{Limit: 3})
	noErr(t, "ListInbox", err)
	wantEqual(t, "open crisis first", page[0].ID, "SMcrisis-old")
	wantEqual(t, "resolved crisis in date order", page[1].ID, "SM0999")
	open, err := s.ListInbox(ctx, store.InboxFilter{NeedsStaff: true, Limit: 2000})
	noErr(t, "ListInbox", err)
	wantEqual(t, "open inbox", len(open), 1001)
}
