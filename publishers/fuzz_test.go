package publishers_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/nudgehq/nudge/publishers"
)

// FuzzParse feeds arbitrary bodies to Parse and ParseBatch, as the HTTP
// ingest does. They must never panic, must fail only with a
// *ValidationError, and an accepted event must survive a marshal/parse round
// trip unchanged (what the publisher stores is what the consumer reads).
func FuzzParse(f *testing.F) {
	f.Add([]byte(validJSON))
	f.Add([]byte(`[` + validJSON + `,` + validJSON + `]`))
	f.Add([]byte(`{"specversion":"1.0","id":"j-1","source":"/journal","type":"journal.day_missed","time":"2026-12-02T08:00:00Z","data":{"client_id":"c-77","date":"2026-02-30"}}`))
	f.Add([]byte(`{"specversion":"1.0","id":"c","source":"/crm","type":"client.upserted","time":"2026-12-02T08:00:00+05:30","data":{"client_id":"c","first_name":"Sam","timezone":"Asia/Kolkata","phone":"+919876543210","email":"a@b.in","locale":"hi-IN"}}`))
	f.Add([]byte(`{"specversion":"1.0","id":"a","source":"/staff","type":"announcement.requested","time":"2026-12-02T08:00:00Z","data":{"announcement_id":"a","group_id":"g","body":"hi\n💛","requested_by":"x","channels":["sms","sms"]},"ext1":1,"Bad":true}`))
	f.Add([]byte(`{"id":1,"id":2,"data":[],"time":"x"}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"data":{"a":1,"a":2}}`))
	f.Add([]byte("{\"specversion\":\"1.0\",\"id\":\"\\u0000\",\"data\":{}}"))

	f.Fuzz(func(t *testing.T, raw []byte) {
		e, err := publishers.Parse(raw)
		if err != nil {
			var verr *publishers.ValidationError
			if !errors.As(err, &verr) || !errors.Is(err, publishers.ErrInvalidEvent) || len(verr.Fields) == 0 {
				t.Fatalf("Parse error is not a useful *ValidationError: %T %v", err, err)
			}
		} else {
			b, err := json.Marshal(e)
			if err != nil {
				t.Fatalf("valid event does not marshal: %v", err)
			}
			again, err := publishers.Parse(b)
			if err != nil {
				t.Fatalf("marshaled event no longer parses: %v\n%s", err, b)
			}
			b2, err := json.Marshal(again)
			if err != nil || string(b2) != string(b) {
				t.Fatalf("round trip changed the event:\n%s\n%s", b, b2)
			}
			if _, err := e.DecodeData(); err != nil {
				t.Fatalf("valid event's data does not decode: %v", err)
			}
		}

		events, errs, err := publishers.ParseBatch(raw)
		if err != nil {
			if !errors.Is(err, publishers.ErrInvalidEvent) || events != nil || errs != nil {
				t.Fatalf("ParseBatch body error %v with results %v %v", err, events, errs)
			}
			return
		}
		if len(events) != len(errs) || len(events) == 0 {
			t.Fatalf("ParseBatch returned %d events and %d errors", len(events), len(errs))
		}
	})
}
