package publishers_test

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nudgehq/nudge/publishers"
)

// fullData has every field of every type's data struct set, so a round trip
// catches a json tag that drifted from the validator's field name.
func fullData() map[string]any {
	at := time.Date(2026, 12, 1, 16, 0, 0, 0, time.UTC)
	return map[string]any{
		publishers.TypeClientUpserted: publishers.ClientUpserted{ClientID: "c-77", FirstName: "Sam", Timezone: "America/Chicago",
			Phone: "+14155550123", Email: "sam@example.com", Locale: "en-US", PreferredChannel: publishers.ChannelEmail},
		publishers.TypeConsentGranted: publishers.ConsentChanged{ClientID: "c-77", Channel: publishers.ChannelSMS,
			Purpose: publishers.PurposeEncouragement, Source: "intake_form", WordingVersion: "v3"},
		publishers.TypeConsentRevoked: publishers.ConsentChanged{ClientID: "c-77", Channel: publishers.ChannelSMS,
			Purpose: publishers.PurposeJournal, Source: "staff_console"},
		publishers.TypeSessionBooked: publishers.SessionBooked{SessionID: "s-1042", ClientID: "c-77", StartsAt: at,
			DurationMin: 50, ClinicianDisplayName: "Dr. Lee", LocationKind: publishers.LocationInPerson},
		publishers.TypeSessionRescheduled: publishers.SessionRescheduled{SessionID: "s-1042", StartsAt: at.Add(24 * time.Hour)},
		publishers.TypeSessionCancelled:   publishers.SessionCancelled{SessionID: "s-1042", Reason: "client asked"},
		publishers.TypeJournalDayMissed:   publishers.JournalDayMissed{ClientID: "c-77", Date: "2026-12-01", MissedDaysInRow: 3},
		publishers.TypeGroupUpserted:      publishers.GroupUpserted{GroupID: "g-1", Name: "Tuesday evening circle"},
		publishers.TypeGroupMemberAdded:   publishers.GroupMembership{GroupID: "g-1", ClientID: "c-77"},
		publishers.TypeGroupMemberRemoved: publishers.GroupMembership{GroupID: "g-1", ClientID: "c-78"},
		publishers.TypeAnnouncementRequested: publishers.AnnouncementRequested{AnnouncementID: "a-9", GroupID: "g-1",
			Body: "We meet in room 4 this week.", RequestedBy: "staff-3", Channels: []publishers.Channel{publishers.ChannelSMS, publishers.ChannelEmail},
			Urgent: true, UrgentReason: "the room changed an hour before", LintOverrideReason: "reviewed by Dana"},
		publishers.TypeClientCarePaused: publishers.CarePaused{ClientID: "c-77", Scope: publishers.CareScopeAll,
			Until: at.Add(7 * 24 * time.Hour), RequestedBy: "dr-lee"},
		publishers.TypeClientCareResumed:   publishers.CareResumed{ClientID: "c-77", RequestedBy: "dr-lee"},
		publishers.TypeJournalEntryWritten: publishers.JournalEntryWritten{ClientID: "c-77", Date: "2026-12-01"},
		publishers.TypeEncouragementScheduleSet: publishers.EncouragementScheduleSet{ClientID: "c-77", Days: []string{"mon"},
			At: "10:00", Themes: []string{"patience"}},

		publishers.TypeSessionConfirmed: publishers.SessionConfirmed{SessionID: "s-1042", ClientID: "c-77",
			Channel: publishers.ChannelSMS, ConfirmedAt: at},
		publishers.TypeSessionRescheduleRequested: publishers.SessionRescheduleRequested{SessionID: "s-1042", ClientID: "c-77",
			Channel: publishers.ChannelSMS, RequestedAt: at},
		publishers.TypeDeliveryStatusChanged: publishers.DeliveryStatusChanged{DeliveryID: "d-1", ClientID: "c-77",
			Channel: publishers.ChannelSMS, Purpose: publishers.PurposeReminders, Status: publishers.DeliverySkipped,
			Reason: "quiet hours", ProviderID: "SM1", SessionID: "s-1042", AnnouncementID: "a-9", OccurredAt: at},
		publishers.TypeClientOptedOut: publishers.ClientOptedOut{ClientID: "c-77", Channel: publishers.ChannelSMS,
			Source: "sms_keyword", Keyword: "STOP", OccurredAt: at},
		publishers.TypeSafetyCrisisReply: publishers.SafetyCrisisReply{ClientID: "c-77", Channel: publishers.ChannelSMS,
			InboundMessageID: "in-5", ReceivedAt: at, AutoReplySent: true},
	}
}

func TestDecodeDataRoundTrip(t *testing.T) {
	data := fullData()
	all := slices.Concat(publishers.IntakeTypes(), publishers.EmittedTypes())
	if len(all) != len(data) {
		t.Fatalf("catalogue has %d types, the test covers %d", len(all), len(data))
	}
	for _, typ := range all {
		t.Run(typ, func(t *testing.T) {
			want, ok := data[typ]
			if !ok {
				t.Fatalf("no fixture for %s", typ)
			}
			e, err := publishers.NewEvent(typ, "/test", want)
			if err != nil {
				t.Fatalf("NewEvent: %v", err)
			}
			// Through the wire format, as a consumer would see it.
			b, err := json.Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			parse := publishers.Parse
			if slices.Contains(publishers.EmittedTypes(), typ) {
				parse = publishers.ParseEmitted
			}
			e, err = parse(b)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			got, err := e.DecodeData()
			if err != nil {
				t.Fatalf("DecodeData: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("DecodeData = %#v\nwant %#v", got, want)
			}
		})
	}
}

func TestDecodeDataErrors(t *testing.T) {
	e := event(publishers.TypeSessionCancelled, nil)
	e.Type = "session.exploded"
	if _, err := e.DecodeData(); err == nil {
		t.Error("DecodeData accepted an unknown type")
	}
	e = event(publishers.TypeSessionCancelled, set("mood", "sad"))
	if _, err := e.DecodeData(); err == nil || !strings.Contains(err.Error(), "mood") {
		t.Errorf("DecodeData with an unknown field = %v", err)
	}
}

func TestDataAs(t *testing.T) {
	e := event(publishers.TypeSessionBooked, nil)
	booked, err := publishers.DataAs[publishers.SessionBooked](e)
	if err != nil {
		t.Fatalf("DataAs: %v", err)
	}
	if booked.SessionID != "s-1042" || booked.DurationMin != 50 || !booked.StartsAt.Equal(time.Date(2026, 12, 1, 16, 0, 0, 0, time.UTC)) {
		t.Errorf("DataAs = %+v", booked)
	}
	if _, err := publishers.DataAs[publishers.SessionCancelled](e); err == nil {
		t.Error("DataAs decoded session.booked data into SessionCancelled")
	}
}

func TestNewEvent(t *testing.T) {
	before := time.Now()
	e, err := publishers.NewEvent(publishers.TypeGroupMemberAdded, "/groups", &publishers.GroupMembership{GroupID: "g-1", ClientID: "c-77"})
	if err != nil {
		t.Fatalf("NewEvent: %v", err)
	}
	if e.SpecVersion != "1.0" || e.Source != "/groups" || e.DataContentType != "application/json" {
		t.Errorf("envelope = %+v", e)
	}
	if len(e.ID) < 26 {
		t.Errorf("id %q is too short to be unique", e.ID)
	}
	if e.Time.Location() != time.UTC || e.Time.Before(before.Add(-time.Second)) || e.Time.After(time.Now().Add(time.Second)) {
		t.Errorf("time = %v, want now in UTC", e.Time)
	}
	if string(e.Data) != `{"group_id":"g-1","client_id":"c-77"}` {
		t.Errorf("data = %s", e.Data)
	}
	other, _ := publishers.NewEvent(publishers.TypeGroupMemberAdded, "/groups", publishers.GroupMembership{GroupID: "g-1", ClientID: "c-77"})
	if other.ID == e.ID {
		t.Error("two events got the same id")
	}

	e2 := e.WithID("groups-g1-c77-added").WithTime(eventTime)
	if e2.ID != "groups-g1-c77-added" || !e2.Time.Equal(eventTime) || e.ID == e2.ID {
		t.Errorf("WithID/WithTime = %+v (original %+v)", e2, e)
	}
}

func TestNewEventRejects(t *testing.T) {
	t.Run("invalid data", func(t *testing.T) {
		e, err := publishers.NewEvent(publishers.TypeClientUpserted, "/crm", publishers.ClientUpserted{ClientID: "c-77", FirstName: "Sam"})
		if f := validationFields(t, err); f[0].Field != "data.timezone" {
			t.Errorf("got %+v", f)
		}
		if e.Type != publishers.TypeClientUpserted || e.ID == "" {
			t.Errorf("NewEvent did not return the built event: %+v", e)
		}
	})
	t.Run("data struct of another type", func(t *testing.T) {
		_, err := publishers.NewEvent(publishers.TypeSessionBooked, "/booking", publishers.SessionCancelled{SessionID: "s-1"})
		f := validationFields(t, err)
		if f[0].Field != "data" || f[0].Code != publishers.CodeInvalidType || !strings.Contains(f[0].Message, "SessionBooked") {
			t.Errorf("got %+v", f)
		}
	})
	t.Run("raw JSON data", func(t *testing.T) {
		_, err := publishers.NewEvent(publishers.TypeSessionCancelled, "/booking", json.RawMessage(`{"session_id":"s-1"}`))
		if err != nil {
			t.Errorf("NewEvent with RawMessage: %v", err)
		}
	})
	t.Run("unmarshalable data", func(t *testing.T) {
		if _, err := publishers.NewEvent(publishers.TypeSessionCancelled, "/booking", func() {}); err == nil {
			t.Error("NewEvent accepted a func as data")
		}
	})
	t.Run("emitted type validated as emitted", func(t *testing.T) {
		_, err := publishers.NewEvent(publishers.TypeClientOptedOut, "nudge", fullData()[publishers.TypeClientOptedOut])
		if err != nil {
			t.Errorf("NewEvent for an emitted type: %v", err)
		}
	})
}

func TestCatalogue(t *testing.T) {
	intake := []string{"announcement.requested", "client.care_paused", "client.care_resumed", "client.upserted", "consent.granted", "consent.revoked",
		"encouragement.schedule_set", "group.member_added", "group.member_removed", "group.upserted", "journal.day_missed", "journal.entry_written", "session.booked",
		"session.cancelled", "session.rescheduled"}
	emitted := []string{"client.opted_out", "delivery.status_changed", "safety.crisis_reply",
		"session.confirmed", "session.reschedule_requested"}
	if got := publishers.IntakeTypes(); !slices.Equal(got, intake) {
		t.Errorf("IntakeTypes = %v", got)
	}
	if got := publishers.EmittedTypes(); !slices.Equal(got, emitted) {
		t.Errorf("EmittedTypes = %v", got)
	}
}
