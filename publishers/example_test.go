package publishers_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/nudgehq/nudge/publishers"
)

// Publishing the same event twice stores it once: the second attempt, as a
// producer's retry after a timeout would be, is acknowledged as a duplicate.
func ExamplePublisher_Publish() {
	dir, err := os.MkdirTemp("", "nudge-example-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)

	js, _, stop, err := startJetStream(dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stop()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stream, err := createEventsStream(ctx, js) // nudge does this in production
	if err != nil {
		fmt.Println(err)
		return
	}

	chicago, _ := time.LoadLocation("America/Chicago")
	e, err := publishers.NewEvent(publishers.TypeSessionBooked, "/booking", publishers.SessionBooked{
		SessionID:    "s-1042",
		ClientID:     "c-77",
		StartsAt:     time.Date(2026, 12, 1, 10, 0, 0, 0, chicago),
		DurationMin:  50,
		LocationKind: publishers.LocationTelehealth,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	e = e.WithID("booking-s1042-v1") // derived from the booking, so a retry reuses it

	pub := publishers.NewPublisher(js)
	for _, attempt := range []string{"first", "second"} {
		res, err := pub.Publish(ctx, e)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%s publish: stream %s, sequence %d, duplicate %t\n", attempt, res.Stream, res.Sequence, res.Duplicate)
	}

	info, err := stream.Info(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("events stored:", info.State.Msgs)
	fmt.Println("subject:", publishers.Subject(e.Type))
	// Output:
	// first publish: stream NUDGE_EVENTS, sequence 1, duplicate false
	// second publish: stream NUDGE_EVENTS, sequence 1, duplicate true
	// events stored: 1
	// subject: nudge.events.session.booked
}

// Validate reports every problem at once, each with a JSON path, a stable
// code and a message showing the expected form.
func ExampleEvent_Validate() {
	e := publishers.Event{
		SpecVersion: "1.0",
		ID:          "crm-client-77-v12",
		Source:      "/crm",
		Type:        publishers.TypeClientUpserted,
		Time:        time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC),
		Data: json.RawMessage(`{
			"client_id": "c-77",
			"first_name": "Sam",
			"timezone": "Mars/Olympus",
			"phone": "555-1234",
			"preferred_channel": "fax",
			"clientId": "c-77"
		}`),
	}

	err := e.Validate()
	var verr *publishers.ValidationError
	if errors.As(err, &verr) {
		for _, f := range verr.Fields {
			fmt.Printf("%s [%s] %s\n", f.Field, f.Code, f.Message)
		}
	}
	fmt.Println("invalid:", errors.Is(err, publishers.ErrInvalidEvent))
	// Output:
	// data.timezone [invalid_value] "Mars/Olympus" is not an IANA time zone (expected like America/New_York)
	// data.phone [invalid_format] "***-**34" is not an E.164 number: it must start with + and the country code (expected like +14155550123)
	// data.preferred_channel [invalid_value] "fax" is not one of sms, email
	// data.clientId [unknown_field] is not a field of this event type (did you mean client_id?)
	// invalid: true
}

// ParseBatch reads what POST /v1/events receives: one event or an array,
// with an error per event so the good ones can be accepted.
func ExampleParseBatch() {
	body := []byte(`[
		{"specversion":"1.0","id":"j-1","source":"/journal","type":"journal.day_missed",
		 "time":"2026-12-02T08:00:00Z","data":{"client_id":"c-77","date":"2026-12-01","missed_days_in_row":1}},
		{"specversion":"1.0","id":"j-2","source":"/journal","type":"journal.day_missed",
		 "time":"2026-12-03T08:00:00","data":{"client_id":"c-77","date":"2026-12-32"}}
	]`)
	events, errs, err := publishers.ParseBatch(body)
	if err != nil {
		fmt.Println(err)
		return
	}
	for i := range events {
		if errs[i] != nil {
			fmt.Printf("event %d: %v\n", i, errs[i])
			continue
		}
		fmt.Printf("event %d: %s %s ok\n", i, events[i].Type, events[i].ID)
	}
	// Output:
	// event 0: journal.day_missed j-1 ok
	// event 1: invalid event: time: "2026-12-03T08:00:00" is not an RFC 3339 time with an offset (expected like 2026-12-01T10:00:00-05:00 or 2026-12-01T15:00:00Z); data.date: "2026-12-32" is not a calendar date in YYYY-MM-DD form (expected like 2026-12-01)
}
