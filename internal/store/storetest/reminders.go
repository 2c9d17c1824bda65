package storetest

import (
	"testing"
	"time"

	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/vocab"
)

func reminder(session string, version int, offset time.Duration, fireMin int) store.Reminder {
	label := map[time.Duration]string{48 * time.Hour: "48h", 2 * time.Hour: "2h"}[offset]
	return store.Reminder{
		Key: "reminder:" + session + ":v" + string(rune('0'+version)) + ":" + label + ":sms", SessionID: session, SessionVersion: version,
		ClientID: "c-ana", Offset: offset, Channel: vocab.SMS, FireAt: at(fireMin), NotAfter: at(fireMin + 30),
		State: store.ReminderScheduled,
	}
}

func upsertReminder(t *testing.T, s store.Store, r store.Reminder) store.Reminder {
	t.Helper()
	got, err := s.UpsertReminder(t.Context(), r)
	noErr(t, "UpsertReminder "+r.Key, err)
	return got
}

func reminderKeys(t *testing.T, s store.Store, f store.ReminderFilter) []string {
	t.Helper()
	rows, err := s.ListReminders(t.Context(), f)
	noErr(t, "ListReminders", err)
	keys := []string{}
	for _, r := range rows {
		keys = append(keys, r.Key+"="+string(r.State))
	}
	return keys
}

func testReminderUpsert(t *testing.T, s store.Store) {
	ctx := t.Context()
	r := reminder("S1", 1, 48*time.Hour, 60)
	r.Reason = "quiet_hours_moved_earlier"
	got := upsertReminder(t, s, r)
	wantTime(t, "fire_at", got.FireAt, r.FireAt)
	wantTime(t, "not_after", got.NotAfter, r.NotAfter)
	if got.CreatedAt.IsZero() || got.UpdatedAt.IsZero() {
		t.Fatalf("timestamps not set: %+v", got)
	}
	want := r
	want.CreatedAt, want.UpdatedAt = got.CreatedAt, got.UpdatedAt
	wantEqual(t, "stored row", got, want)

	// The same key again replaces the decision, keeps what the key says.
	skip := r
	skip.State, skip.Reason, skip.NotAfter, skip.FireAt = store.ReminderSkipped, "quiet_hours_no_slot", time.Time{}, at(61)
	got = upsertReminder(t, s, skip)
	wantEqual(t, "state", got.State, store.ReminderSkipped)
	wantEqual(t, "reason", got.Reason, "quiet_hours_no_slot")
	wantTime(t, "moved fire_at", got.FireAt, at(61))
	if !got.NotAfter.IsZero() {
		t.Fatalf("not_after = %v, want zero", got.NotAfter)
	}
	rows, err := s.ListReminders(ctx, store.ReminderFilter{SessionID: "S1"})
	noErr(t, "ListReminders", err)
	wantEqual(t, "rows after two upserts of one key", len(rows), 1)
	wantEqual(t, "offset survives a round trip", rows[0].Offset, 48*time.Hour)

	for _, bad := range []store.Reminder{
		{},
		func() store.Reminder { b := r; b.Offset = 0; return b }(),
		func() store.Reminder { b := r; b.Offset = 1500 * time.Millisecond; return b }(),
		func() store.Reminder { b := r; b.Channel = "fax"; return b }(),
		func() store.Reminder { b := r; b.State = "sent"; return b }(),
		func() store.Reminder { b := r; b.FireAt = time.Time{}; return b }(),
		func() store.Reminder { b := r; b.SessionVersion = 0; return b }(),
	} {
		_, err := s.UpsertReminder(ctx, bad)
		wantErr(t, "invalid reminder", err, store.ErrInvalid)
	}
}

func testReminderCancel(t *testing.T, s store.Store) {
	ctx := t.Context()
	upsertReminder(t, s, reminder("S1", 1, 48*time.Hour, 10))
	upsertReminder(t, s, reminder("S1", 1, 2*time.Hour, 20))
	skipped := reminder("S1", 1, 2*time.Hour, 5)
	skipped.Key += ":skipped"
	skipped.State, skipped.Reason = store.ReminderSkipped, "offset_passed"
	upsertReminder(t, s, skipped)
	upsertReminder(t, s, reminder("S1", 2, 48*time.Hour, 30))
	upsertReminder(t, s, reminder("S2", 1, 48*time.Hour, 40))

	// A reschedule to v2 keeps v2's reminder and withdraws v1's.
	n, err := s.CancelReminders(ctx, "S1", []string{"reminder:S1:v2:48h:sms"}, "moved")
	noErr(t, "CancelReminders", err)
	wantEqual(t, "cancelled", n, 2)
	rows, err := s.ListReminders(ctx, store.ReminderFilter{SessionID: "S1"})
	noErr(t, "ListReminders", err)
	got := map[string][2]string{}
	for _, r := range rows {
		got[r.Key] = [2]string{string(r.State), r.Reason}
	}
	wantEqual(t, "v1 48h", got["reminder:S1:v1:48h:sms"], [2]string{"cancelled", "moved"})
	wantEqual(t, "v1 2h", got["reminder:S1:v1:2h:sms"], [2]string{"cancelled", "moved"})
	wantEqual(t, "skipped stays skipped", got["reminder:S1:v1:2h:sms:skipped"], [2]string{"skipped", "offset_passed"})
	wantEqual(t, "kept", got["reminder:S1:v2:48h:sms"], [2]string{"scheduled", ""})

	// Cancelling the session withdraws everything still scheduled; nothing
	// of another session changes, and cancelling again changes nothing.
	n, err = s.CancelReminders(ctx, "S1", nil, "cancelled")
	noErr(t, "CancelReminders all", err)
	wantEqual(t, "cancelled", n, 1)
	n, err = s.CancelReminders(ctx, "S1", nil, "cancelled")
	noErr(t, "CancelReminders again", err)
	wantEqual(t, "cancelled again", n, 0)
	wantEqual(t, "other session", len(reminderKeys(t, s, store.ReminderFilter{SessionID: "S2", State: store.ReminderScheduled})), 1)
	_, err = s.CancelReminders(ctx, "", nil, "x")
	wantErr(t, "no session id", err, store.ErrInvalid)
}

func testReminderList(t *testing.T, s store.Store) {
	upsertReminder(t, s, reminder("S1", 1, 2*time.Hour, 30))
	upsertReminder(t, s, reminder("S1", 1, 48*time.Hour, 10))
	upsertReminder(t, s, reminder("S2", 1, 48*time.Hour, 20))
	c := reminder("S3", 1, 48*time.Hour, 40)
	c.State = store.ReminderCancelled
	upsertReminder(t, s, c)
	upsertReminder(t, s, reminder("S4", 1, 48*time.Hour, -10))

	wantEqual(t, "session, soonest first",
		fmtList(reminderKeys(t, s, store.ReminderFilter{SessionID: "S1"})),
		fmtList([]string{"reminder:S1:v1:48h:sms=scheduled", "reminder:S1:v1:2h:sms=scheduled"}))
	wantEqual(t, "upcoming scheduled",
		fmtList(reminderKeys(t, s, store.ReminderFilter{State: store.ReminderScheduled, FireAfter: at(0)})),
		fmtList([]string{"reminder:S1:v1:48h:sms=scheduled", "reminder:S2:v1:48h:sms=scheduled", "reminder:S1:v1:2h:sms=scheduled"}))
	wantEqual(t, "limit",
		fmtList(reminderKeys(t, s, store.ReminderFilter{Limit: 2})),
		fmtList([]string{"reminder:S4:v1:48h:sms=scheduled", "reminder:S1:v1:48h:sms=scheduled"}))
	wantEqual(t, "none", len(reminderKeys(t, s, store.ReminderFilter{SessionID: "S-none"})), 0)
}

func fmtList(keys []string) string {
	out := ""
	for _, k := range keys {
		out += k + "\n"
	}
	return out
}
