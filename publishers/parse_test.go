package publishers_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nudgehq/nudge/publishers"
)

const validJSON = `{
	"specversion": "1.0",
	"id": "booking-s1042-v1",
	"source": "/booking",
	"type": "session.booked",
	"time": "2026-11-30T09:00:00-06:00",
	"datacontenttype": "application/json",
	"subject": "s-1042",
	"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
	"data": {"session_id": "s-1042", "client_id": "c-77", "starts_at": "2026-12-01T10:00:00-06:00", "duration_min": 50}
}`

func TestParseValid(t *testing.T) {
	e, err := publishers.Parse([]byte(validJSON))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	wantTime := time.Date(2026, 11, 30, 15, 0, 0, 0, time.UTC)
	if e.ID != "booking-s1042-v1" || e.Type != publishers.TypeSessionBooked || e.Source != "/booking" ||
		e.Subject != "s-1042" || !e.Time.Equal(wantTime) || e.DataContentType != "application/json" {
		t.Errorf("unexpected envelope %+v", e)
	}
	if _, offset := e.Time.Zone(); offset != -6*3600 {
		t.Errorf("time offset = %d, want the producer's -06:00 kept", offset)
	}
	if got := string(e.Extensions["traceparent"]); got != `"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"` {
		t.Errorf("traceparent extension = %s", got)
	}

	// Marshal and parse again: nothing is lost, extensions included.
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	again, err := publishers.Parse(b)
	if err != nil {
		t.Fatalf("Parse(Marshal(e)): %v\n%s", err, b)
	}
	b2, _ := json.Marshal(again)
	if string(b) != string(b2) {
		t.Errorf("round trip changed the event:\n%s\n%s", b, b2)
	}
}

func TestParseRejects(t *testing.T) {
	// replace swaps one member of validJSON for something else.
	replace := func(old, new string) string {
		if !strings.Contains(validJSON, old) {
			panic("fixture does not contain " + old)
		}
		return strings.Replace(validJSON, old, new, 1)
	}
	cases := []struct {
		rule, body string
		field      string
		code       string
	}{
		{"malformed JSON", `{"specversion": "1.0",`, "", "malformed_json"},
		{"empty body", "  ", "", "malformed_json"},
		{"trailing data", validJSON + `{}`, "", "malformed_json"},
		{"not an object", `["session.booked"]`, "", "invalid_type"},
		{"null", `null`, "", "invalid_type"},
		{"attribute names are case-sensitive", replace(`"subject"`, `"Subject"`), "Subject", "unknown_field"},
		{"duplicate attribute", replace(`"id": "booking-s1042-v1",`, `"id": "a", "id": "b",`), "id", "duplicate_field"},
		{"attribute type", replace(`"id": "booking-s1042-v1"`, `"id": 1042`), "id", "invalid_type"},
		{"time has an offset", replace(`"2026-11-30T09:00:00-06:00"`, `"2026-11-30T09:00:00"`), "time", "invalid_format"},
		{"time is a string", replace(`"2026-11-30T09:00:00-06:00"`, `1764514800`), "time", "invalid_type"},
		{"time required", replace(`"time": "2026-11-30T09:00:00-06:00",`, ``), "time", "required"},
		{"time not null", replace(`"2026-11-30T09:00:00-06:00"`, `null`), "time", "required"},
		{"no binary data", replace(`"subject": "s-1042",`, `"data_base64": "e30=",`), "data_base64", "unknown_field"},
		{"extension name", replace(`"traceparent"`, `"trace_parent"`), "trace_parent", "unknown_field"},
		{"data duplicate key", replace(`"duration_min": 50`, `"duration_min": 50, "duration_min": 60`), "data.duration_min", "duplicate_field"},
		{"data is an object", replace(`"data": {"session_id": "s-1042", "client_id": "c-77", "starts_at": "2026-12-01T10:00:00-06:00", "duration_min": 50}`, `"data": "s-1042"`), "data", "invalid_type"},
		{"data starts_at offset", replace(`"starts_at": "2026-12-01T10:00:00-06:00"`, `"starts_at": "2026-12-01T10:00:00"`), "data.starts_at", "invalid_format"},
	}
	for _, tc := range cases {
		t.Run(tc.rule, func(t *testing.T) {
			_, err := publishers.Parse([]byte(tc.body))
			fields := validationFields(t, err)
			for _, f := range fields {
				if f.Field != tc.field {
					t.Errorf("unexpected extra problem %+v", f)
				}
			}
			if fields[0].Field != tc.field || fields[0].Code != tc.code {
				t.Errorf("got %+v, want %s on %q", fields, tc.code, tc.field)
			}
		})
	}
}

func TestParseSuggestsCorrectNames(t *testing.T) {
	body := strings.Replace(validJSON, `"datacontenttype"`, `"dataContentType"`, 1)
	_, err := publishers.Parse([]byte(body))
	if err == nil || !strings.Contains(err.Error(), "dataContentType: is unknown (did you mean datacontenttype?)") {
		t.Errorf("Parse error = %v, want a suggestion", err)
	}
}

// On error Parse still returns what it decoded, so the caller can log the id.
func TestParseReturnsPartialEvent(t *testing.T) {
	body := strings.Replace(validJSON, `"session.booked"`, `"session.exploded"`, 1)
	e, err := publishers.Parse([]byte(body))
	if err == nil || e.ID != "booking-s1042-v1" {
		t.Errorf("Parse = %+v, %v; want the id and an error", e.ID, err)
	}
}

func TestParseEmitted(t *testing.T) {
	e := event(publishers.TypeSessionConfirmed, nil)
	b, _ := json.Marshal(e)
	if _, err := publishers.ParseEmitted(b); err != nil {
		t.Errorf("ParseEmitted: %v", err)
	}
	if _, err := publishers.Parse(b); !errors.Is(err, publishers.ErrInvalidEvent) {
		t.Errorf("Parse accepted an emitted event: %v", err)
	}
}

func TestParseBatch(t *testing.T) {
	good := mustJSON(t, event(publishers.TypeSessionCancelled, nil))
	bad := mustJSON(t, event(publishers.TypeSessionCancelled, set("session_id", "")))

	t.Run("object", func(t *testing.T) {
		events, errs, err := publishers.ParseBatch([]byte(" \n" + good))
		if err != nil || len(events) != 1 || len(errs) != 1 || errs[0] != nil || events[0].Type != publishers.TypeSessionCancelled {
			t.Errorf("ParseBatch(object) = %v, %v, %v", events, errs, err)
		}
	})
	t.Run("invalid object", func(t *testing.T) {
		events, errs, err := publishers.ParseBatch([]byte(bad))
		if err != nil || len(events) != 1 || !errors.Is(errs[0], publishers.ErrInvalidEvent) {
			t.Errorf("ParseBatch(invalid object) = %v, %v, %v", events, errs, err)
		}
	})
	t.Run("array", func(t *testing.T) {
		events, errs, err := publishers.ParseBatch([]byte("[" + good + "," + good + "]"))
		if err != nil || len(events) != 2 || errs[0] != nil || errs[1] != nil {
			t.Errorf("ParseBatch(array) = %v, %v, %v", events, errs, err)
		}
	})
	t.Run("mixed good and bad", func(t *testing.T) {
		events, errs, err := publishers.ParseBatch([]byte("[" + good + "," + bad + ", 42, " + good + "]"))
		if err != nil {
			t.Fatalf("ParseBatch: %v", err)
		}
		if len(events) != 4 || len(errs) != 4 {
			t.Fatalf("got %d events, %d errors; want 4 and 4", len(events), len(errs))
		}
		if errs[0] != nil || errs[3] != nil {
			t.Errorf("good events rejected: %v, %v", errs[0], errs[3])
		}
		if f := validationFields(t, errs[1]); f[0].Field != "data.session_id" {
			t.Errorf("errs[1] = %v", errs[1])
		}
		if f := validationFields(t, errs[2]); f[0].Code != publishers.CodeInvalidType {
			t.Errorf("errs[2] = %v", errs[2])
		}
	})
	tooMany := "[" + strings.TrimSuffix(strings.Repeat(good+",", publishers.MaxBatchEvents+1), ",") + "]"
	for name, tc := range map[string]struct{ body, code string }{
		"number":    {`42`, "invalid_type"},
		"string":    {`"event"`, "invalid_type"},
		"null":      {`null`, "invalid_type"},
		"malformed": {`[` + good, "malformed_json"},
		"empty":     {``, "malformed_json"},
		"no events": {`[]`, "required"},
		"too many":  {tooMany, "too_long"},
	} {
		t.Run("neither: "+name, func(t *testing.T) {
			events, errs, err := publishers.ParseBatch([]byte(tc.body))
			if events != nil || errs != nil {
				t.Errorf("want no per-event results, got %v, %v", events, errs)
			}
			if f := validationFields(t, err); f[0].Field != "" || f[0].Code != tc.code {
				t.Errorf("got %+v, want %s on the body", f, tc.code)
			}
		})
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestMarshalExtensions(t *testing.T) {
	e := event(publishers.TypeSessionCancelled, nil)
	e.Extensions = map[string]json.RawMessage{"b": json.RawMessage(` 2 `), "a": json.RawMessage(`"x"`)}
	got := mustJSON(t, e)
	if !strings.HasSuffix(got, `},"a":"x","b":2}`) {
		t.Errorf("extensions not appended in order: %s", got)
	}
	for name, ext := range map[string]map[string]json.RawMessage{
		"collides with an attribute": {"type": json.RawMessage(`"x"`)},
		"invalid JSON":               {"a": json.RawMessage(`{`)},
	} {
		e.Extensions = ext
		if _, err := json.Marshal(e); err == nil {
			t.Errorf("%s: Marshal succeeded", name)
		}
	}
}

func ExampleSubject() {
	fmt.Println(publishers.Subject(publishers.TypeSessionBooked))
	// Output: nudge.events.session.booked
}
