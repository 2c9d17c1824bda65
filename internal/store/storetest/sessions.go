package storetest

import (
	"testing"
	"time"

	"github.com/nudgehq/nudge/internal/store"
)

func session(id string, starts time.Time) store.Session {
	return store.Session{
		ID: id, ClientID: "c-ana", StartsAt: starts, DurationMin: 50,
		ClinicianDisplayName: "Dr. Lee", LocationKind: "telehealth",
	}
}

func getSession(t *testing.T, s store.Store, id string) store.Session {
	t.Helper()
	got, err := s.GetSession(t.Context(), id)
	noErr(t, "GetSession", err)
	return got
}

func testSessionBooked(t *testing.T, s store.Store) {
	ctx := t.Context()
	starts := at(48 * 60)
	res, err := s.ApplySessionBooked(ctx, ev("b1", "session.booked", at(0)), session("S1", starts))
	wantResult(t, "book", res, err, applied)

	got := getSession(t, s, "S1")
	want := session("S1", starts)
	want.Status, want.Version = store.SessionBooked, 1
	want.StartsAt, want.UpdatedAt, want.CreatedAt = got.StartsAt, got.UpdatedAt, got.CreatedAt
	wantEqual(t, "session", got, want)
	wantTime(t, "StartsAt", got.StartsAt, starts)
	wantTime(t, "UpdatedAt", got.UpdatedAt, at(0))

	res, err = s.ApplySessionBooked(ctx, ev("b1", "session.booked", at(0)), session("S1", starts))
	wantResult(t, "replay", res, err, duplicate)
	res, err = s.ApplySessionBooked(ctx, ev("b2", "session.booked", at(1)), session("S1", at(99)))
	wantResult(t, "second booking of the same session", res, err, noChange)
	wantEqual(t, "session unchanged", getSession(t, s, "S1"), got)

	bad := session("S2", time.Time{})
	_, err = s.ApplySessionBooked(ctx, ev("b3", "session.booked", at(0)), bad)
	wantErr(t, "no start time", err, store.ErrInvalid)
	bad = session("S2", starts)
	bad.LocationKind = "moon"
	_, err = s.ApplySessionBooked(ctx, ev("b4", "session.booked", at(0)), bad)
	wantErr(t, "unknown location kind", err, store.ErrInvalid)
}

func testSessionReschedule(t *testing.T, s store.Store) {
	ctx := t.Context()
	res, err := s.ApplySessionBooked(ctx, ev("b1", "session.booked", at(0)), session("S1", at(1000)))
	wantResult(t, "book", res, err, applied)

	res, err = s.ApplySessionRescheduled(ctx, ev("r1", "session.rescheduled", at(10)), "S1", at(2000))
	wantResult(t, "move", res, err, applied)
	got := getSession(t, s, "S1")
	wantEqual(t, "version after move", got.Version, 2)
	wantTime(t, "moved StartsAt", got.StartsAt, at(2000))

	res, err = s.ApplySessionRescheduled(ctx, ev("r1", "session.rescheduled", at(10)), "S1", at(2000))
	wantResult(t, "replay", res, err, duplicate)
	res, err = s.ApplySessionRescheduled(ctx, ev("r2", "session.rescheduled", at(20)), "S1", at(2000))
	wantResult(t, "same time", res, err, noChange)
	wantEqual(t, "version after no-op reschedules", getSession(t, s, "S1").Version, 2)

	// r3 happened before r2 (which confirmed 2000) but arrives after it:
	// it must not move the session.
	res, err = s.ApplySessionRescheduled(ctx, ev("r3", "session.rescheduled", at(15)), "S1", at(3000))
	wantResult(t, "older reschedule", res, err, stale)
	got = getSession(t, s, "S1")
	wantTime(t, "StartsAt after stale", got.StartsAt, at(2000))
	wantEqual(t, "version after stale", got.Version, 2)

	res, err = s.ApplySessionRescheduled(ctx, ev("r4", "session.rescheduled", at(30)), "S1", at(2500))
	wantResult(t, "second move", res, err, applied)
	wantEqual(t, "version after second move", getSession(t, s, "S1").Version, 3)
}

func testSessionCancel(t *testing.T, s store.Store) {
	ctx := t.Context()
	res, err := s.ApplySessionBooked(ctx, ev("b1", "session.booked", at(0)), session("S1", at(1000)))
	wantResult(t, "book", res, err, applied)
	res, err = s.ApplySessionRescheduled(ctx, ev("r1", "session.rescheduled", at(10)), "S1", at(1100))
	wantResult(t, "move", res, err, applied)

	// A cancel older than the last reschedule still cancels: cancellation
	// wins over ordering, so no reminder goes out for it.
	res, err = s.ApplySessionCancelled(ctx, ev("c1", "session.cancelled", at(5)), "S1", "client asked")
	wantResult(t, "cancel older than the last change", res, err, applied)
	got := getSession(t, s, "S1")
	wantEqual(t, "status", got.Status, store.SessionCancelled)
	wantEqual(t, "reason", got.CancelReason, "client asked")
	wantEqual(t, "version kept", got.Version, 2)
	wantTime(t, "event time never moves back", got.UpdatedAt, at(10))

	res, err = s.ApplySessionCancelled(ctx, ev("c2", "session.cancelled", at(30)), "S1", "again")
	wantResult(t, "cancel again", res, err, noChange)
	res, err = s.ApplySessionRescheduled(ctx, ev("r2", "session.rescheduled", at(40)), "S1", at(5000))
	wantResult(t, "reschedule after cancel", res, err, declined(store.ReasonCancelled))
	res, err = s.ApplySessionBooked(ctx, ev("b2", "session.booked", at(50)), session("S1", at(6000)))
	wantResult(t, "rebook after cancel", res, err, noChange)
	wantEqual(t, "cancellation is final", getSession(t, s, "S1"), got)
}

func testSessionUnknown(t *testing.T, s store.Store) {
	ctx := t.Context()
	res, err := s.ApplySessionRescheduled(ctx, ev("r1", "session.rescheduled", at(0)), "S-ghost", at(100))
	wantResult(t, "reschedule", res, err, declined(store.ReasonUnknownSession))
	res, err = s.ApplySessionCancelled(ctx, ev("c1", "session.cancelled", at(0)), "S-ghost", "")
	wantResult(t, "cancel", res, err, declined(store.ReasonUnknownSession))

	rec, err := s.GetEvent(ctx, "r1")
	noErr(t, "declined event is queryable", err)
	wantEqual(t, "record", [2]any{rec.Applied, rec.Reason}, [2]any{false, store.ReasonUnknownSession})
	_, err = s.GetSession(ctx, "S-ghost")
	wantErr(t, "GetSession", err, store.ErrNotFound)
}

func testSessionUpcoming(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := at(0)
	book := func(id, client string, starts time.Time) {
		sess := session(id, starts)
		sess.ClientID = client
		res, err := s.ApplySessionBooked(ctx, ev("b-"+id, "session.booked", now), sess)
		wantResult(t, "book "+id, res, err, applied)
	}
	book("past", "c-ana", now.Add(-time.Hour))
	book("late", "c-ana", now.Add(72*time.Hour))
	book("soon", "c-ana", now.Add(2*time.Hour))
	book("cancelled", "c-ana", now.Add(3*time.Hour))
	book("other", "c-ben", now.Add(time.Hour))
	res, err := s.ApplySessionCancelled(ctx, ev("c", "session.cancelled", now.Add(time.Minute)), "cancelled", "")
	wantResult(t, "cancel", res, err, applied)

	got, err := s.UpcomingSessions(ctx, "c-ana", now)
	noErr(t, "UpcomingSessions", err)
	var ids []string
	for _, sess := range got {
		ids = append(ids, sess.ID)
	}
	wantEqual(t, "upcoming, soonest first", len(ids), 2)
	wantEqual(t, "upcoming", ids[0]+","+ids[1], "soon,late")
}
