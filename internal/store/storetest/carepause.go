package storetest

import (
	"testing"

	"github.com/nudgehq/nudge/internal/store"
)

func testCarePause(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, err := s.GetCarePause(ctx, "c-ana")
	wantErr(t, "never paused", err, store.ErrNotFound)

	res, err := s.ApplyCareResume(ctx, ev("r0", "client.care_resumed", at(0)), "c-ana", "dr-lee")
	wantResult(t, "resume without a pause", res, err, noChange)

	res, err = s.ApplyCarePause(ctx, ev("p1", "client.care_paused", at(10)),
		store.CarePause{ClientID: "c-ana", Scope: store.CareScopeAll, Until: at(70), RequestedBy: "dr-lee"})
	wantResult(t, "pause", res, err, applied)
	p, err := s.GetCarePause(ctx, "c-ana")
	noErr(t, "GetCarePause", err)
	wantEqual(t, "scope", p.Scope, store.CareScopeAll)
	wantEqual(t, "requested by", p.RequestedBy, "dr-lee")
	wantTime(t, "since", p.Since, at(10))
	wantTime(t, "until", p.Until, at(70))
	wantEqual(t, "active", p.Active, true)
	wantEqual(t, "in force before until", p.InForce(at(69)), true)
	wantEqual(t, "over at until", p.InForce(at(70)), false)

	res, err = s.ApplyCarePause(ctx, ev("p1", "client.care_paused", at(10)), store.CarePause{ClientID: "c-ana", RequestedBy: "dr-lee"})
	wantResult(t, "replayed pause", res, err, duplicate)
	res, err = s.ApplyCareResume(ctx, ev("r-old", "client.care_resumed", at(5)), "c-ana", "dr-kim")
	wantResult(t, "resume older than the pause", res, err, stale)

	res, err = s.ApplyCareResume(ctx, ev("r1", "client.care_resumed", at(20)), "c-ana", "dr-kim")
	wantResult(t, "resume", res, err, applied)
	p, err = s.GetCarePause(ctx, "c-ana")
	noErr(t, "GetCarePause", err)
	wantEqual(t, "active after resume", p.Active, false)
	wantEqual(t, "resumed by", p.ResumedBy, "dr-kim")
	wantEqual(t, "not in force after resume", p.InForce(at(30)), false)

	res, err = s.ApplyCarePause(ctx, ev("p-old", "client.care_paused", at(15)), store.CarePause{ClientID: "c-ana", RequestedBy: "dr-lee"})
	wantResult(t, "pause older than the resume", res, err, stale)

	// A pause without until or scope: non-essential, until resumed.
	res, err = s.ApplyCarePause(ctx, ev("p2", "client.care_paused", at(30)), store.CarePause{ClientID: "c-ana", RequestedBy: "dr-lee"})
	wantResult(t, "second pause", res, err, applied)
	p, err = s.GetCarePause(ctx, "c-ana")
	noErr(t, "GetCarePause", err)
	wantEqual(t, "default scope", p.Scope, store.CareScopeNonEssential)
	wantEqual(t, "no until", p.Until.IsZero(), true)
	wantEqual(t, "resumed by cleared", p.ResumedBy, "")
	wantEqual(t, "in force much later", p.InForce(at(100000)), true)

	_, err = s.ApplyCarePause(ctx, ev("p3", "client.care_paused", at(40)), store.CarePause{ClientID: "c-ana", Scope: "most", RequestedBy: "x"})
	wantErr(t, "unknown scope", err, store.ErrInvalid)
	_, err = s.ApplyCarePause(ctx, ev("p4", "client.care_paused", at(40)), store.CarePause{ClientID: "c-ana"})
	wantErr(t, "no requested_by", err, store.ErrInvalid)
}
