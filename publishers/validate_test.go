package publishers_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nudgehq/nudge/publishers"
)

// validData is a minimal-plus-optional valid data object for every type; the
// rule tests below break exactly one thing in it.
func validData(typ string) map[string]any {
	switch typ {
	case publishers.TypeClientUpserted:
		return map[string]any{"client_id": "c-77", "first_name": "Sam", "timezone": "America/Chicago",
			"phone": "+14155550123", "email": "sam@example.com", "locale": "en-US", "preferred_channel": "sms"}
	case publishers.TypeConsentGranted, publishers.TypeConsentRevoked:
		return map[string]any{"client_id": "c-77", "channel": "sms", "purpose": "reminders", "source": "intake_form", "wording_version": "v3"}
	case publishers.TypeSessionBooked:
		return map[string]any{"session_id": "s-1042", "client_id": "c-77", "starts_at": "2026-12-01T10:00:00-06:00",
			"duration_min": 50, "clinician_display_name": "Dr. Lee", "location_kind": "telehealth"}
	case publishers.TypeSessionRescheduled:
		return map[string]any{"session_id": "s-1042", "starts_at": "2026-12-02T10:00:00Z"}
	case publishers.TypeSessionCancelled:
		return map[string]any{"session_id": "s-1042", "reason": "client asked"}
	case publishers.TypeJournalDayMissed:
		return map[string]any{"client_id": "c-77", "date": "2026-12-01", "missed_days_in_row": 2}
	case publishers.TypeGroupUpserted:
		return map[string]any{"group_id": "g-anxiety", "name": "Tuesday evening circle"}
	case publishers.TypeGroupMemberAdded, publishers.TypeGroupMemberRemoved:
		return map[string]any{"group_id": "g-anxiety", "client_id": "c-77"}
	case publishers.TypeAnnouncementRequested:
		return map[string]any{"announcement_id": "a-9", "group_id": "g-anxiety", "template": "group_moved",
			"requested_by": "staff-3", "channels": []string{"sms", "email"}}
	case publishers.TypeClientCarePaused:
		return map[string]any{"client_id": "c-77", "scope": "all", "until": "2026-12-08T09:00:00-05:00", "requested_by": "dr-lee"}
	case publishers.TypeClientCareResumed:
		return map[string]any{"client_id": "c-77", "requested_by": "dr-lee"}
	case publishers.TypeJournalEntryWritten:
		return map[string]any{"client_id": "c-77", "date": "2026-12-01"}
	case publishers.TypeEncouragementScheduleSet:
		return map[string]any{"client_id": "c-77", "days": []string{"mon", "thu"}, "at": "10:00", "themes": []string{"patience", "support"}}
	case publishers.TypeSessionConfirmed:
		return map[string]any{"session_id": "s-1042", "client_id": "c-77", "channel": "sms", "confirmed_at": "2026-11-30T12:00:00Z"}
	case publishers.TypeSessionRescheduleRequested:
		return map[string]any{"session_id": "s-1042", "client_id": "c-77", "channel": "sms", "requested_at": "2026-11-30T12:00:00Z"}
	case publishers.TypeDeliveryStatusChanged:
		return map[string]any{"delivery_id": "d-1", "client_id": "c-77", "channel": "email", "purpose": "announcements",
			"status": "delivered", "provider_id": "SM123", "announcement_id": "a-9", "occurred_at": "2026-11-30T12:00:00Z"}
	case publishers.TypeClientOptedOut:
		return map[string]any{"client_id": "c-77", "channel": "sms", "source": "sms_keyword", "keyword": "STOP", "occurred_at": "2026-11-30T12:00:00Z"}
	case publishers.TypeSafetyCrisisReply:
		return map[string]any{"client_id": "c-77", "channel": "sms", "inbound_message_id": "in-5", "received_at": "2026-11-30T12:00:00Z", "auto_reply_sent": true}
	}
	panic("no valid data for " + typ)
}

// requiredFields lists each type's required data fields, from the catalogue.
var requiredFields = map[string][]string{
	publishers.TypeClientUpserted:           {"client_id", "first_name", "timezone"},
	publishers.TypeConsentGranted:           {"client_id", "channel", "purpose", "source"},
	publishers.TypeConsentRevoked:           {"client_id", "channel", "purpose", "source"},
	publishers.TypeSessionBooked:            {"session_id", "client_id", "starts_at"},
	publishers.TypeSessionRescheduled:       {"session_id", "starts_at"},
	publishers.TypeSessionCancelled:         {"session_id"},
	publishers.TypeJournalDayMissed:         {"client_id", "date"},
	publishers.TypeGroupUpserted:            {"group_id", "name"},
	publishers.TypeGroupMemberAdded:         {"group_id", "client_id"},
	publishers.TypeGroupMemberRemoved:       {"group_id", "client_id"},
	publishers.TypeAnnouncementRequested:    {"announcement_id", "group_id", "requested_by"},
	publishers.TypeClientCarePaused:         {"client_id", "requested_by"},
	publishers.TypeClientCareResumed:        {"client_id", "requested_by"},
	publishers.TypeJournalEntryWritten:      {"client_id", "date"},
	publishers.TypeEncouragementScheduleSet: {"client_id"},
}

// idFields are the identifier fields each type carries.
var idFields = map[string][]string{
	publishers.TypeClientUpserted:           {"client_id"},
	publishers.TypeConsentGranted:           {"client_id"},
	publishers.TypeSessionBooked:            {"session_id", "client_id"},
	publishers.TypeSessionRescheduled:       {"session_id"},
	publishers.TypeSessionCancelled:         {"session_id"},
	publishers.TypeJournalDayMissed:         {"client_id"},
	publishers.TypeGroupMemberAdded:         {"group_id", "client_id"},
	publishers.TypeAnnouncementRequested:    {"announcement_id", "group_id"},
	publishers.TypeClientCarePaused:         {"client_id"},
	publishers.TypeClientCareResumed:        {"client_id"},
	publishers.TypeJournalEntryWritten:      {"client_id"},
	publishers.TypeEncouragementScheduleSet: {"client_id"},
}

var eventTime = time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)

// event builds a valid event of typ whose data is validData(typ) after edit.
func event(typ string, edit func(d map[string]any)) publishers.Event {
	d := validData(typ)
	if edit != nil {
		edit(d)
	}
	raw, err := json.Marshal(d)
	if err != nil {
		panic(err)
	}
	return publishers.Event{
		SpecVersion:     "1.0",
		ID:              "evt-1",
		Source:          "/booking",
		Type:            typ,
		Time:            eventTime,
		DataContentType: "application/json",
		Data:            raw,
	}
}

// envelope builds a valid session.booked event, then edits the envelope.
func envelope(edit func(e *publishers.Event)) publishers.Event {
	e := event(publishers.TypeSessionBooked, nil)
	edit(&e)
	return e
}

func set(key string, value any) func(map[string]any) {
	return func(d map[string]any) { d[key] = value }
}

func del(key string) func(map[string]any) {
	return func(d map[string]any) { delete(d, key) }
}

type ruleCase struct {
	rule  string
	event publishers.Event
	field string // every reported problem must be on this field...
	code  string // ...and at least one must carry this code
}

// ruleCases is one case per validation rule; removing a rule makes its case
// fail because the event then validates.
func ruleCases() []ruleCase {
	const (
		booked   = publishers.TypeSessionBooked
		client   = publishers.TypeClientUpserted
		consent  = publishers.TypeConsentGranted
		journal  = publishers.TypeJournalDayMissed
		announce = publishers.TypeAnnouncementRequested
	)
	long := func(n int) string { return strings.Repeat("x", n) }
	tooManyExtensions := map[string]json.RawMessage{}
	for i := range publishers.MaxExtensions + 1 {
		tooManyExtensions["ext"+string(rune('a'+i))] = json.RawMessage(`"v"`)
	}

	cases := []ruleCase{
		// Envelope.
		{"specversion required", envelope(func(e *publishers.Event) { e.SpecVersion = "" }), "specversion", "required"},
		{"specversion must be 1.0", envelope(func(e *publishers.Event) { e.SpecVersion = "0.3" }), "specversion", "invalid_value"},
		{"id required", envelope(func(e *publishers.Event) { e.ID = "" }), "id", "required"},
		{"id at most 200 chars", envelope(func(e *publishers.Event) { e.ID = long(201) }), "id", "too_long"},
		{"id no whitespace", envelope(func(e *publishers.Event) { e.ID = "evt 1" }), "id", "invalid_format"},
		{"id no unicode whitespace", envelope(func(e *publishers.Event) { e.ID = "evt\u00a01" }), "id", "invalid_format"},
		{"id no control chars", envelope(func(e *publishers.Event) { e.ID = "evt\x01" }), "id", "invalid_format"},
		{"id valid UTF-8", envelope(func(e *publishers.Event) { e.ID = "evt\xff" }), "id", "invalid_format"},
		{"source required", envelope(func(e *publishers.Event) { e.Source = "" }), "source", "required"},
		{"source is a URI-reference", envelope(func(e *publishers.Event) { e.Source = "my booking system" }), "source", "invalid_format"},
		{"source length", envelope(func(e *publishers.Event) { e.Source = "/" + long(publishers.MaxSourceLength) }), "source", "too_long"},
		{"type required", envelope(func(e *publishers.Event) { e.Type = "" }), "type", "required"},
		{"type in catalogue", envelope(func(e *publishers.Event) { e.Type = "session.booked.v2" }), "type", "unknown_type"},
		{"emitted type not accepted", envelope(func(e *publishers.Event) { e.Type = publishers.TypeSessionConfirmed }), "type", "not_accepted"},
		{"time required", envelope(func(e *publishers.Event) { e.Time = time.Time{} }), "time", "required"},
		{"time four-digit year", envelope(func(e *publishers.Event) { e.Time = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }), "time", "invalid_value"},
		{"datacontenttype json only", envelope(func(e *publishers.Event) { e.DataContentType = "text/plain" }), "datacontenttype", "invalid_value"},
		{"datacontenttype utf-8 only", envelope(func(e *publishers.Event) { e.DataContentType = "application/json; charset=latin1" }), "datacontenttype", "invalid_value"},
		{"datacontenttype no other params", envelope(func(e *publishers.Event) { e.DataContentType = "application/json; v=2" }), "datacontenttype", "invalid_value"},
		{"subject single line", envelope(func(e *publishers.Event) { e.Subject = "a\nb" }), "subject", "invalid_format"},
		{"subject valid UTF-8", envelope(func(e *publishers.Event) { e.Subject = "s-\xff" }), "subject", "invalid_format"},
		{"subject length", envelope(func(e *publishers.Event) { e.Subject = long(publishers.MaxSubjectLength + 1) }), "subject", "too_long"},
		{"extension names lowercase alnum", envelope(func(e *publishers.Event) {
			e.Extensions = map[string]json.RawMessage{"trace-parent": json.RawMessage(`"x"`)}
		}), "trace-parent", "unknown_field"},
		{"extension name length", envelope(func(e *publishers.Event) {
			e.Extensions = map[string]json.RawMessage{long(21): json.RawMessage(`"x"`)}
		}), long(21), "too_long"},
		{"extension value primitive", envelope(func(e *publishers.Event) {
			e.Extensions = map[string]json.RawMessage{"traceparent": json.RawMessage(`{"a":1}`)}
		}), "traceparent", "invalid_type"},
		{"extension value valid JSON", envelope(func(e *publishers.Event) {
			e.Extensions = map[string]json.RawMessage{"traceparent": json.RawMessage(`{`)}
		}), "traceparent", "invalid_format"},
		{"extension value length", envelope(func(e *publishers.Event) {
			e.Extensions = map[string]json.RawMessage{"traceparent": json.RawMessage(`"` + long(publishers.MaxExtensionValue) + `"`)}
		}), "traceparent", "too_long"},
		{"extension not a CloudEvents attribute", envelope(func(e *publishers.Event) {
			e.Extensions = map[string]json.RawMessage{"id": json.RawMessage(`"x"`)}
		}), "id", "invalid_value"},
		{"no data_base64", envelope(func(e *publishers.Event) {
			e.Extensions = map[string]json.RawMessage{"data_base64": json.RawMessage(`"eyJ9"`)}
		}), "data_base64", "unknown_field"},
		{"extension count", envelope(func(e *publishers.Event) { e.Extensions = tooManyExtensions }), "", "too_long"},
		{"data required", envelope(func(e *publishers.Event) { e.Data = nil }), "data", "required"},
		{"data not null", envelope(func(e *publishers.Event) { e.Data = json.RawMessage("null") }), "data", "required"},
		{"data valid JSON", envelope(func(e *publishers.Event) { e.Data = json.RawMessage(`{"session_id":`) }), "data", "invalid_format"},
		{"data is an object", envelope(func(e *publishers.Event) { e.Data = json.RawMessage(`["s-1"]`) }), "data", "invalid_type"},
		{"data keys unique", envelope(func(e *publishers.Event) {
			e.Data = json.RawMessage(`{"session_id":"s-1","client_id":"c-1","client_id":"c-2","starts_at":"2026-12-01T10:00:00Z"}`)
		}), "data.client_id", "duplicate_field"},

		// Data: shape.
		{"unknown data field", event(booked, set("room", "3")), "data.room", "unknown_field"},
		{"misspelled data field", event(booked, set("clientId", "c-77")), "data.clientId", "unknown_field"},
		{"string field has string type", event(booked, set("session_id", 1042)), "data.session_id", "invalid_type"},

		// client.upserted.
		{"phone starts with +", event(client, set("phone", "555-1234")), "data.phone", "invalid_format"},
		{"phone in E.164 form", event(client, set("phone", "+1 415-555-0123")), "data.phone", "invalid_format"},
		{"phone parses", event(client, set("phone", "+1-not-a-number")), "data.phone", "invalid_format"},
		{"phone valid for its country", event(client, set("phone", "+15555550123")), "data.phone", "invalid_format"},
		{"phone not empty", event(client, set("phone", "")), "data.phone", "invalid_format"},
		{"email syntax", event(client, set("email", "sam.example.com")), "data.email", "invalid_format"},
		{"email bare address", event(client, set("email", "Sam <sam@example.com>")), "data.email", "invalid_format"},
		{"email length", event(client, set("email", long(250)+"@example.com")), "data.email", "too_long"},
		{"timezone IANA", event(client, set("timezone", "Mars/Olympus")), "data.timezone", "invalid_value"},
		{"timezone not Local", event(client, set("timezone", "Local")), "data.timezone", "invalid_value"},
		{"locale BCP 47", event(client, set("locale", "en_US")), "data.locale", "invalid_format"},
		{"preferred_channel enum", event(client, set("preferred_channel", "fax")), "data.preferred_channel", "invalid_value"},
		{"first_name at most 100 chars", event(client, set("first_name", long(101))), "data.first_name", "too_long"},
		{"first_name single line", event(client, set("first_name", "Sam\nSmith")), "data.first_name", "invalid_format"},
		{"first_name not blank", event(client, set("first_name", "   ")), "data.first_name", "required"},

		// consent.*.
		{"consent channel enum", event(consent, set("channel", "push")), "data.channel", "invalid_value"},
		{"consent purpose enum", event(consent, set("purpose", "marketing")), "data.purpose", "invalid_value"},

		// session.*.
		{"starts_at needs an offset", event(booked, set("starts_at", "2026-12-01T10:00:00")), "data.starts_at", "invalid_format"},
		{"starts_at RFC 3339", event(booked, set("starts_at", "Dec 1 2026 10am")), "data.starts_at", "invalid_format"},
		{"starts_at is a string", event(booked, set("starts_at", 1764604800)), "data.starts_at", "invalid_type"},
		{"rescheduled starts_at needs an offset", event(publishers.TypeSessionRescheduled, set("starts_at", "2026-12-01 10:00:00")), "data.starts_at", "invalid_format"},
		{"duration_min at least 1", event(booked, set("duration_min", 0)), "data.duration_min", "invalid_value"},
		{"duration_min at most 1440", event(booked, set("duration_min", 1441)), "data.duration_min", "invalid_value"},
		{"duration_min whole number", event(booked, set("duration_min", 50.5)), "data.duration_min", "invalid_type"},
		{"duration_min a number", event(booked, set("duration_min", "50")), "data.duration_min", "invalid_type"},
		{"duration_min in int64", event(booked, func(d map[string]any) { d["duration_min"] = json.Number("99999999999999999999") }), "data.duration_min", "invalid_value"},
		{"location_kind enum", event(booked, set("location_kind", "phone")), "data.location_kind", "invalid_value"},
		{"clinician_display_name length", event(booked, set("clinician_display_name", long(101))), "data.clinician_display_name", "too_long"},
		{"reason length", event(publishers.TypeSessionCancelled, set("reason", long(501))), "data.reason", "too_long"},

		// journal.day_missed.
		{"date a real day", event(journal, set("date", "2026-02-30")), "data.date", "invalid_format"},
		{"date YYYY-MM-DD", event(journal, set("date", "2026-2-3")), "data.date", "invalid_format"},
		{"date not a timestamp", event(journal, set("date", "2026-12-01T00:00:00Z")), "data.date", "invalid_format"},
		{"missed_days_in_row not negative", event(journal, set("missed_days_in_row", -1)), "data.missed_days_in_row", "invalid_value"},

		// client.care_paused.
		{"care scope enum", event(publishers.TypeClientCarePaused, set("scope", "everything")), "data.scope", "invalid_value"},
		{"care until needs an offset", event(publishers.TypeClientCarePaused, set("until", "2026-12-08T09:00:00")), "data.until", "invalid_format"},
		{"care requested_by single line", event(publishers.TypeClientCareResumed, set("requested_by", "a\nb")), "data.requested_by", "invalid_format"},

		// encouragement.schedule_set.
		{"schedule days enum", event(publishers.TypeEncouragementScheduleSet, set("days", []string{"monday"})), "data.days[0]", "invalid_value"},
		{"schedule at HH:MM", event(publishers.TypeEncouragementScheduleSet, set("at", "10am")), "data.at", "invalid_format"},
		{"schedule at in range", event(publishers.TypeEncouragementScheduleSet, set("at", "24:00")), "data.at", "invalid_format"},
		{"schedule at needs days", event(publishers.TypeEncouragementScheduleSet, del("days")), "data.days", "required"},
		{"schedule days need at", event(publishers.TypeEncouragementScheduleSet, del("at")), "data.at", "required"},
		{"schedule cron six fields", event(publishers.TypeEncouragementScheduleSet, func(d map[string]any) {
			delete(d, "days")
			delete(d, "at")
			d["cron"] = "0 10 * * 1,4"
		}), "data.cron", "invalid_value"},
		{"schedule cron hour range", event(publishers.TypeEncouragementScheduleSet, func(d map[string]any) {
			delete(d, "days")
			delete(d, "at")
			d["cron"] = "0 0 25 * * *"
		}), "data.cron", "invalid_value"},
		{"schedule cron or days", event(publishers.TypeEncouragementScheduleSet, set("cron", "0 0 10 * * *")), "data", "invalid_value"},
		{"schedule one of cron or days", event(publishers.TypeEncouragementScheduleSet, func(d map[string]any) {
			delete(d, "days")
			delete(d, "at")
		}), "data", "required"},
		{"schedule themes enum", event(publishers.TypeEncouragementScheduleSet, set("themes", []string{"gratitude"})), "data.themes[0]", "invalid_value"},
		{"entry date a real day", event(publishers.TypeJournalEntryWritten, set("date", "2026-13-01")), "data.date", "invalid_format"},

		// announcement.requested.
		{"template xor body: not both", event(announce, set("body", "We meet in room 4 this week.")), "data", "invalid_value"},
		{"template xor body: one required", event(announce, del("template")), "data", "required"},
		{"template is an id", event(announce, set("template", "group moved")), "data.template", "invalid_format"},
		{"body at most 1600 chars", event(announce, func(d map[string]any) { delete(d, "template"); d["body"] = long(1601) }), "data.body", "too_long"},
		{"body no control chars", event(announce, func(d map[string]any) { delete(d, "template"); d["body"] = "hi\x07" }), "data.body", "invalid_format"},
		{"body no bidi override", event(announce, func(d map[string]any) { delete(d, "template"); d["body"] = "hi \u202e" }), "data.body", "invalid_format"},
		{"channels enum", event(announce, set("channels", []string{"sms", "fax"})), "data.channels[1]", "invalid_value"},
		{"channels distinct", event(announce, set("channels", []string{"sms", "sms"})), "data.channels[1]", "invalid_value"},
		{"channels not empty", event(announce, set("channels", []string{})), "data.channels", "invalid_value"},
		{"channels an array", event(announce, set("channels", "sms")), "data.channels", "invalid_type"},
		{"channels of strings", event(announce, set("channels", []any{1})), "data.channels[0]", "invalid_type"},
		{"requested_by single line", event(announce, set("requested_by", "a\tb")), "data.requested_by", "invalid_format"},
		{"urgent needs a reason", event(announce, set("urgent", true)), "data.urgent_reason", "required"},
		{"urgent is a boolean", event(announce, set("urgent", "yes")), "data.urgent", "invalid_type"},
		{"group name required", event(publishers.TypeGroupUpserted, del("name")), "data.name", "required"},
		{"group name single line", event(publishers.TypeGroupUpserted, set("name", "a\nb")), "data.name", "invalid_format"},
	}

	// Every required field of every type: absent, null, empty.
	for _, typ := range slices.Sorted(maps.Keys(requiredFields)) {
		for _, f := range requiredFields[typ] {
			cases = append(cases,
				ruleCase{typ + " " + f + " required", event(typ, del(f)), "data." + f, "required"},
				ruleCase{typ + " " + f + " not null", event(typ, set(f, nil)), "data." + f, "required"},
				ruleCase{typ + " " + f + " not empty", event(typ, set(f, "")), "data." + f, "required"},
			)
		}
	}
	// Every id field: length, whitespace.
	for _, typ := range slices.Sorted(maps.Keys(idFields)) {
		for _, f := range idFields[typ] {
			cases = append(cases,
				ruleCase{typ + " " + f + " at most 200 chars", event(typ, set(f, long(201))), "data." + f, "too_long"},
				ruleCase{typ + " " + f + " no whitespace", event(typ, set(f, "c 77")), "data." + f, "invalid_format"},
				ruleCase{typ + " " + f + " printable", event(typ, set(f, "c\u200b77")), "data." + f, "invalid_format"},
			)
		}
	}
	return cases
}

func TestValidateRules(t *testing.T) {
	for _, tc := range ruleCases() {
		t.Run(tc.rule, func(t *testing.T) {
			fields := validationFields(t, tc.event.Validate())
			found := false
			for _, f := range fields {
				if f.Field != tc.field {
					t.Errorf("unexpected extra problem %+v", f)
				}
				if f.Code == tc.code {
					found = true
				}
				if f.Message == "" {
					t.Errorf("problem %+v has no message", f)
				}
			}
			if !found {
				t.Errorf("want %s on %q, got %+v", tc.code, tc.field, fields)
			}
		})
	}
}

// validationFields asserts err is a *ValidationError matching
// ErrInvalidEvent and returns its problems.
func validationFields(t *testing.T, err error) []publishers.FieldError {
	t.Helper()
	if err == nil {
		t.Fatal("want a validation error, got nil")
	}
	if !errors.Is(err, publishers.ErrInvalidEvent) {
		t.Errorf("errors.Is(%v, ErrInvalidEvent) = false", err)
	}
	var verr *publishers.ValidationError
	if !errors.As(err, &verr) {
		t.Fatalf("want *ValidationError, got %T: %v", err, err)
	}
	if len(verr.Fields) == 0 {
		t.Fatal("ValidationError with no fields")
	}
	return verr.Fields
}

// TestValidateAccepts pins the edges of each rule from the valid side, so a
// rule cannot be tightened by accident either.
func TestValidateAccepts(t *testing.T) {
	long := func(n int) string { return strings.Repeat("y", n) }
	cases := map[string]publishers.Event{
		"every intake type, optional fields set": {}, // expanded below
		"datacontenttype absent":                 envelope(func(e *publishers.Event) { e.DataContentType = "" }),
		"datacontenttype with utf-8 charset":     envelope(func(e *publishers.Event) { e.DataContentType = "application/json; charset=UTF-8" }),
		"id of 200 chars":                        envelope(func(e *publishers.Event) { e.ID = long(200) }),
		"id with unicode and punctuation":        envelope(func(e *publishers.Event) { e.ID = "booking:s-1042/v3#é" }),
		"source absolute URI":                    envelope(func(e *publishers.Event) { e.Source = "https://booking.example.com/practice/7" }),
		"source URN":                             envelope(func(e *publishers.Event) { e.Source = "urn:practice:booking" }),
		"time with offset":                       envelope(func(e *publishers.Event) { e.Time = time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("", 5*3600+1800)) }),
		"subject":                                envelope(func(e *publishers.Event) { e.Subject = "session/s-1042" }),
		"extension attributes": envelope(func(e *publishers.Event) {
			e.Extensions = map[string]json.RawMessage{"traceparent": json.RawMessage(`"00-abc-def-01"`), "priority": json.RawMessage(`3`), "urgent": json.RawMessage(`true`)}
		}),
		"starts_at with Z":                  event(publishers.TypeSessionBooked, set("starts_at", "2026-12-01T16:00:00Z")),
		"starts_at with fractional seconds": event(publishers.TypeSessionBooked, set("starts_at", "2026-12-01T16:00:00.123+05:30")),
		"only required session fields": event(publishers.TypeSessionBooked, func(d map[string]any) {
			delete(d, "duration_min")
			delete(d, "location_kind")
			delete(d, "clinician_display_name")
		}),
		"duration_min 1":      event(publishers.TypeSessionBooked, set("duration_min", 1)),
		"duration_min 1440":   event(publishers.TypeSessionBooked, set("duration_min", 1440)),
		"location in_person":  event(publishers.TypeSessionBooked, set("location_kind", "in_person")),
		"optional field null": event(publishers.TypeSessionBooked, set("location_kind", nil)),
		"client without contact details": event(publishers.TypeClientUpserted, func(d map[string]any) {
			delete(d, "phone")
			delete(d, "email")
			delete(d, "locale")
			delete(d, "preferred_channel")
		}),
		"UK phone":                             event(publishers.TypeClientUpserted, set("phone", "+447911123456")),
		"timezone UTC":                         event(publishers.TypeClientUpserted, set("timezone", "UTC")),
		"locale language only":                 event(publishers.TypeClientUpserted, set("locale", "es")),
		"locale with script":                   event(publishers.TypeClientUpserted, set("locale", "zh-Hant-TW")),
		"first_name of 100 chars with accents": event(publishers.TypeClientUpserted, set("first_name", strings.Repeat("é", 100))),
		"missed_days_in_row 0":                 event(publishers.TypeJournalDayMissed, set("missed_days_in_row", 0)),
		"leap day":                             event(publishers.TypeJournalDayMissed, set("date", "2028-02-29")),
		"empty optional reason":                event(publishers.TypeSessionCancelled, set("reason", "")),
		"multi-line reason":                    event(publishers.TypeSessionCancelled, set("reason", "moved\nby phone")),
		"body instead of template": event(publishers.TypeAnnouncementRequested, func(d map[string]any) {
			delete(d, "template")
			d["body"] = "Group moves to room 4.\nSee you there 💛"
		}),
		"body of 1600 chars":                 event(publishers.TypeAnnouncementRequested, func(d map[string]any) { delete(d, "template"); d["body"] = strings.Repeat("é", 1600) }),
		"body with emoji joiner":             event(publishers.TypeAnnouncementRequested, func(d map[string]any) { delete(d, "template"); d["body"] = "family 👨‍👩‍👧" }),
		"channels absent":                    event(publishers.TypeAnnouncementRequested, del("channels")),
		"staff display name as requested_by": event(publishers.TypeAnnouncementRequested, set("requested_by", "Dana (front desk)")),
		"consent revoked without wording":    event(publishers.TypeConsentRevoked, del("wording_version")),
		"group member removed":               event(publishers.TypeGroupMemberRemoved, nil),
		"session rescheduled":                event(publishers.TypeSessionRescheduled, nil),
		"announcement with template":         event(publishers.TypeAnnouncementRequested, nil),
		"announcement with one channel":      event(publishers.TypeAnnouncementRequested, set("channels", []string{"email"})),
		"urgent announcement with a reason": event(publishers.TypeAnnouncementRequested, func(d map[string]any) {
			d["urgent"], d["urgent_reason"] = true, "the room changed an hour before"
		}),
		"announcement with a lint override":     event(publishers.TypeAnnouncementRequested, set("lint_override_reason", "reviewed")),
		"group named":                           event(publishers.TypeGroupUpserted, nil),
		"consent for announcements via email":   event(publishers.TypeConsentGranted, func(d map[string]any) { d["channel"] = "email"; d["purpose"] = "announcements" }),
		"encouragement and journal purposes ok": event(publishers.TypeConsentGranted, set("purpose", "encouragement")),
	}
	delete(cases, "every intake type, optional fields set")
	for _, typ := range publishers.IntakeTypes() {
		cases["type "+typ] = event(typ, nil)
	}
	for name, e := range cases {
		t.Run(name, func(t *testing.T) {
			if err := e.Validate(); err != nil {
				t.Fatalf("Validate() = %v", err)
			}
		})
	}
}

// A producer learns every problem at once, each message naming what was
// expected.
func TestValidateReportsAllProblems(t *testing.T) {
	e := event(publishers.TypeClientUpserted, func(d map[string]any) {
		d["phone"] = "555-1234"
		d["email"] = "sam@"
		d["timezone"] = "EST"
		delete(d, "first_name")
		d["nickname"] = "S"
	})
	e.ID = ""
	e.Time = time.Time{}

	err := e.Validate()
	got := map[string]string{}
	for _, f := range validationFields(t, err) {
		got[f.Field] = f.Code
	}
	want := map[string]string{
		"id":              "required",
		"time":            "required",
		"data.first_name": "required",
		"data.phone":      "invalid_format",
		"data.email":      "invalid_format",
		"data.nickname":   "unknown_field",
	}
	// "EST" is a valid IANA (legacy) zone, so it must not be reported.
	if !maps.Equal(got, want) {
		t.Errorf("problems = %v, want %v", got, want)
	}
	msg := err.Error()
	for _, part := range []string{
		`data.phone: "***-**34" is not an E.164 number: it must start with + and the country code`,
		"(expected like +14155550123)",
		`data.email: "***@" is not an email address (expected like name@example.com)`,
	} {
		if !strings.Contains(msg, part) {
			t.Errorf("error %q does not contain %q", msg, part)
		}
	}
}

// Invariant 8 in docs/invariants.md: messages are logged, so they must not carry a full phone
// number or email address.
func TestValidateMasksContactDetails(t *testing.T) {
	e := event(publishers.TypeClientUpserted, func(d map[string]any) {
		d["phone"] = "+1 (312) 678-9876"
		d["email"] = "Sam Smith <sam.smith@example.com>"
	})
	msg := e.Validate().Error()
	for _, secret := range []string{"312", "678", "9876", "sam.smith", "Sam Smith"} {
		if strings.Contains(msg, secret) {
			t.Errorf("message leaks %q: %s", secret, msg)
		}
	}
	if !strings.Contains(msg, `"+* (***) ***-**76"`) {
		t.Errorf("message does not show the masked shape: %s", msg)
	}
}

func TestValidateEmitted(t *testing.T) {
	for _, typ := range publishers.EmittedTypes() {
		t.Run(typ, func(t *testing.T) {
			e := event(typ, nil)
			if err := e.ValidateEmitted(); err != nil {
				t.Fatalf("ValidateEmitted() = %v", err)
			}
			fields := validationFields(t, e.Validate())
			if len(fields) != 1 || fields[0].Field != "type" || fields[0].Code != publishers.CodeNotAccepted {
				t.Errorf("Validate() on an emitted type = %+v, want one not_accepted on type", fields)
			}
		})
	}
	t.Run("intake type refused", func(t *testing.T) {
		fields := validationFields(t, event(publishers.TypeSessionBooked, nil).ValidateEmitted())
		if fields[0].Code != publishers.CodeNotAccepted {
			t.Errorf("got %+v, want not_accepted", fields)
		}
	})
	t.Run("emitted data rules apply", func(t *testing.T) {
		cases := []ruleCase{
			{"status enum", event(publishers.TypeDeliveryStatusChanged, set("status", "opened")), "data.status", "invalid_value"},
			{"occurred_at offset", event(publishers.TypeClientOptedOut, set("occurred_at", "2026-11-30T12:00:00")), "data.occurred_at", "invalid_format"},
			{"auto_reply_sent boolean", event(publishers.TypeSafetyCrisisReply, set("auto_reply_sent", "yes")), "data.auto_reply_sent", "invalid_type"},
			{"no message text", event(publishers.TypeSafetyCrisisReply, set("text", "I am not ok")), "data.text", "unknown_field"},
			{"confirmed_at required", event(publishers.TypeSessionConfirmed, del("confirmed_at")), "data.confirmed_at", "required"},
		}
		for _, tc := range cases {
			fields := validationFields(t, tc.event.ValidateEmitted())
			if fields[0].Field != tc.field || fields[0].Code != tc.code {
				t.Errorf("%s: got %+v, want %s on %s", tc.rule, fields, tc.code, tc.field)
			}
		}
	})
}

func TestValidationErrorFormat(t *testing.T) {
	err := &publishers.ValidationError{Fields: []publishers.FieldError{
		{Field: "id", Code: "required", Message: "is required"},
		{Field: "", Code: "malformed_json", Message: "not valid JSON"},
	}}
	if got, want := err.Error(), "invalid event: id: is required; not valid JSON"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	b, _ := json.Marshal(err)
	if got, want := string(b), `{"fields":[{"field":"id","code":"required","message":"is required"},{"field":"","code":"malformed_json","message":"not valid JSON"}]}`; got != want {
		t.Errorf("JSON = %s, want %s", got, want)
	}
}

// A hostile body with thousands of bad keys is rejected quickly, with a
// bounded list of problems.
func TestValidateBoundsProblems(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"session_id":"s-1","client_id":"c-1","starts_at":"2026-12-01T10:00:00Z"`)
	for i := range 20000 {
		fmt.Fprintf(&b, `,"k%d":1,"dup":1`, i)
	}
	b.WriteString("}")
	e := envelope(func(e *publishers.Event) { e.Data = json.RawMessage(b.String()) })

	start := time.Now()
	fields := validationFields(t, e.Validate())
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Errorf("Validate took %v", elapsed)
	}
	if len(fields) != publishers.MaxFieldErrors+1 {
		t.Fatalf("got %d problems, want %d", len(fields), publishers.MaxFieldErrors+1)
	}
	if last := fields[len(fields)-1]; last.Code != publishers.CodeTooManyErrors {
		t.Errorf("last problem = %+v, want too_many_errors", last)
	}
	if fields[0].Field != "data.dup" || fields[0].Code != publishers.CodeDuplicateField {
		t.Errorf("first problem = %+v, want the duplicate key", fields[0])
	}
}
