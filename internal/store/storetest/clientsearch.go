package storetest

import (
	"fmt"
	"testing"

	"github.com/nudgehq/nudge/internal/store"
)

func testClientSearch(t *testing.T, s store.Store) {
	ctx := t.Context()
	for i, c := range []store.Client{
		{ID: "c-ana", FirstName: "Ana", Timezone: "UTC", Phone: "+15555550100", Email: "ana@example.com"},
		{ID: "c-andre", FirstName: "André", Timezone: "UTC", Email: "dre@example.org"},
		{ID: "c-bo", FirstName: "Bo", Timezone: "UTC", Phone: "+447700900123"},
		{ID: "c_50%", FirstName: "Percent", Timezone: "UTC"},
	} {
		_, err := s.ApplyClientUpsert(ctx, ev(fmt.Sprint("cs", i), "client.upserted", at(i)), c)
		noErr(t, "upsert", err)
	}
	ids := func(q string) string {
		t.Helper()
		got, err := s.SearchClients(ctx, q, 0)
		noErr(t, "SearchClients "+q, err)
		out := ""
		for _, c := range got {
			out += c.ID + " "
		}
		return out
	}
	for q, want := range map[string]string{
		"":         "c_50% c-bo c-andre c-ana ", // newest first
		"an":       "c-andre c-ana ",            // first-name prefix, any case
		"ANA":      "c-ana ",
		"dre@":     "c-andre ", // email prefix
		"c-b":      "c-bo ",    // id prefix
		"7700 900": "c-bo ",    // phone digits
		"c_5":      "c_50% ",   // wildcards are literal
		"c%":       "",
		"nobody":   "",
	} {
		if got := ids(q); got != want {
			t.Errorf("SearchClients(%q) = %q, want %q", q, got, want)
		}
	}
	got, err := s.SearchClients(ctx, "", 2)
	noErr(t, "SearchClients limit", err)
	wantEqual(t, "limited results", len(got), 2)
}
