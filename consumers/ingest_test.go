package consumers

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/store/sqlite"
	"github.com/nudgehq/nudge/publishers"
)

func clientEvent(t *testing.T, id, source string, at time.Time, d publishers.ClientUpserted) publishers.Event {
	t.Helper()
	ev, err := publishers.NewEvent(publishers.TypeClientUpserted, source, d)
	if err != nil {
		t.Fatal(err)
	}
	return ev.WithID(id).WithTime(at)
}

// Issue 9, defect 3: a Cal.com booking for the same email with another
// phone (or a booking with someone else's email) must not re-route a
// client's messages. The stored contact stays, the change waits in the
// staff inbox; NUDGE_CALCOM_TRUST_CONTACT lets it through.
func TestIngestUntrustedSourceNeverReplacesContact(t *testing.T) {
	for _, trusted := range []bool{false, true} {
		st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "nudge.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		in := &Ingest{Store: st}
		if !trusted {
			in.UntrustedContactSources = []string{"/calcom"}
		}
		t0 := time.Date(2030, 1, 2, 10, 0, 0, 0, time.UTC)
		apply := func(ev publishers.Event) {
			t.Helper()
			if _, err := in.Apply(t.Context(), ev); err != nil {
				t.Fatal(err)
			}
		}
		apply(clientEvent(t, "u1", "/booking-system", t0, publishers.ClientUpserted{
			ClientID: "c1", FirstName: "Ada", Timezone: "UTC", Phone: "+14155550101", Email: "ada@example.org"}))
		booking := clientEvent(t, "calcom-u2", "/calcom", t0.Add(time.Minute), publishers.ClientUpserted{
			ClientID: "c1", FirstName: "Ada", Timezone: "Europe/Madrid", Phone: "+34600000000", Email: "ada@example.org"})
		apply(booking)
		apply(booking) // a redelivery records one inbox item
		c, err := st.GetClient(t.Context(), "c1")
		if err != nil {
			t.Fatal(err)
		}
		items, err := st.ListInbox(t.Context(), store.InboxFilter{NeedsStaff: true})
		if err != nil {
			t.Fatal(err)
		}
		if trusted {
			if c.Phone != "+34600000000" || len(items) != 0 {
				t.Fatalf("trusted: phone %s, inbox %d", c.Phone, len(items))
			}
			continue
		}
		if c.Phone != "+14155550101" || c.Timezone != "Europe/Madrid" {
			t.Fatalf("client %+v: want the old phone kept and the rest applied", c)
		}
		if len(items) != 1 || items[0].Kind != KindContactChange || items[0].ClientID != "c1" {
			t.Fatalf("inbox %+v: want one contact change for c1", items)
		}
		// Adding a contact the client lacked is not a replacement.
		apply(clientEvent(t, "u3", "/booking-system", t0.Add(2*time.Minute), publishers.ClientUpserted{
			ClientID: "c2", FirstName: "Bo", Timezone: "UTC", Phone: "+14155550102"}))
		apply(clientEvent(t, "calcom-u4", "/calcom", t0.Add(3*time.Minute), publishers.ClientUpserted{
			ClientID: "c2", FirstName: "Bo", Timezone: "UTC", Phone: "+14155550102", Email: "bo@example.org"}))
		if c2, _ := st.GetClient(t.Context(), "c2"); c2.Email != "bo@example.org" {
			t.Fatalf("an added email was held back: %+v", c2)
		}
	}
}

// Events another job acts on are recorded with a reason naming that job,
// so GET /v1/events/{id} never reads as "accepted and ignored".
func TestIngestNamesTheJobThatActs(t *testing.T) {
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "nudge.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	in := &Ingest{Store: st}
	for _, tc := range []struct {
		typ  string
		data any
		want string
	}{
		{publishers.TypeJournalDayMissed, publishers.JournalDayMissed{ClientID: "c1", Date: "2030-01-02", MissedDaysInRow: 1}, ReasonHandedToJournal},
		{publishers.TypeAnnouncementRequested, publishers.AnnouncementRequested{AnnouncementID: "a1", GroupID: "g1", Body: "Group moves to Room 4 on Friday.", RequestedBy: "front-desk"}, ReasonHandedToAnnouncements},
	} {
		ev, err := publishers.NewEvent(tc.typ, "/test", tc.data)
		if err != nil {
			t.Fatal(err)
		}
		res, err := in.Apply(t.Context(), ev)
		if err != nil {
			t.Fatal(err)
		}
		if res.Reason != tc.want {
			t.Errorf("%s recorded with reason %q, want %q", tc.typ, res.Reason, tc.want)
		}
	}
}
