package storetest

import (
	"testing"

	"github.com/nudgehq/nudge/internal/store"
)

func testOptInRequests(t *testing.T, s store.Store) {
	ctx := t.Context()
	r := store.OptInRequest{MessageID: "SM1", ClientID: "c-ana", Address: "+14155550100", Keyword: "HOPE", WordingVersion: "optin-v1", RequestedAt: at(0)}
	ok, err := s.RecordOptInRequest(ctx, r)
	noErr(t, "record", err)
	wantEqual(t, "created", ok, true)
	ok, err = s.RecordOptInRequest(ctx, r)
	noErr(t, "record again", err)
	wantEqual(t, "replay creates nothing", ok, false)
	_, err = s.RecordOptInRequest(ctx, store.OptInRequest{MessageID: "SM9", ClientID: "c-bo", Address: "+14155550199", Keyword: "HOPE", RequestedAt: at(5)})
	noErr(t, "another number", err)

	got, err := s.OptInRequestsAt(ctx, "+14155550100", at(-1))
	noErr(t, "list", err)
	wantEqual(t, "one request", len(got), 1)
	wantEqual(t, "wording", got[0].WordingVersion, "optin-v1")
	wantEqual(t, "pending", got[0].ConfirmedBy, "")
	if !got[0].ConfirmedAt.IsZero() {
		t.Fatalf("pending request has confirmed_at %v", got[0].ConfirmedAt)
	}
	got, err = s.OptInRequestsAt(ctx, "+14155550100", at(1))
	noErr(t, "list since later", err)
	wantEqual(t, "older requests left out", len(got), 0)

	ok, err = s.ConfirmOptInRequest(ctx, "SM1", "c-ana", "SM2", at(10))
	noErr(t, "confirm", err)
	wantEqual(t, "confirmed", ok, true)
	ok, err = s.ConfirmOptInRequest(ctx, "SM1", "c-ana", "SM3", at(11))
	noErr(t, "confirm again", err)
	wantEqual(t, "confirmed once", ok, false)
	got, _ = s.OptInRequestsAt(ctx, "+14155550100", at(-1))
	wantEqual(t, "confirmed by", got[0].ConfirmedBy, "SM2")
	wantTime(t, "confirmed at", got[0].ConfirmedAt, at(10))

	_, err = s.RecordOptInRequest(ctx, store.OptInRequest{MessageID: "SM4", ClientID: "c-ana"})
	wantErr(t, "no address", err, store.ErrInvalid)
}
