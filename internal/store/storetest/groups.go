package storetest

import (
	"slices"
	"testing"

	"github.com/nudgehq/nudge/internal/store"
)

func testGroupMembership(t *testing.T, s store.Store) {
	ctx := t.Context()
	members := func(want ...string) {
		t.Helper()
		got, err := s.GroupMembers(ctx, "g1")
		noErr(t, "GroupMembers", err)
		if !slices.Equal(got, want) {
			t.Fatalf("members: got %v, want %v", got, want)
		}
	}
	members()
	set := func(id, client string, active bool, min int, want store.Result) {
		t.Helper()
		typ := "group.member_added"
		if !active {
			typ = "group.member_removed"
		}
		res, err := s.ApplyGroupMembership(ctx, ev(id, typ, at(min)), "g1", client, active)
		wantResult(t, id, res, err, want)
	}
	set("a1", "c-zoe", true, 0, applied)
	set("a2", "c-ana", true, 1, applied)
	members("c-ana", "c-zoe")

	set("d1", "c-zoe", false, 10, applied)
	members("c-ana")
	set("a1", "c-zoe", true, 0, duplicate)
	set("a3", "c-zoe", true, 5, stale) // added before the removal, arrived after it
	members("c-ana")
	set("a4", "c-zoe", true, 20, applied)
	members("c-ana", "c-zoe")

	other, err := s.GroupMembers(ctx, "g-other")
	noErr(t, "other group", err)
	wantEqual(t, "other group is empty", len(other), 0)

	_, err = s.ApplyGroupMembership(ctx, ev("x", "group.member_added", at(0)), "", "c-ana", true)
	wantErr(t, "empty group id", err, store.ErrInvalid)
}
