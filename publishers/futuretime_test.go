package publishers_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/nudgehq/nudge/publishers"
)

// An event dated in the future would outrank every real event after it (a
// grant dated 2099 makes each later revocation "stale"), so intake refuses
// a time more than MaxFutureTime ahead of the clock, on every path that
// validates: Validate (the Go publisher, Cal.com, nudge publish) and Parse
// (POST /v1/events, nudge publish --file).
func TestIntakeRefusesFutureTime(t *testing.T) {
	far := envelope(func(e *publishers.Event) { e.Time = time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC) })
	soon := envelope(func(e *publishers.Event) { e.Time = time.Now().Add(publishers.MaxFutureTime + time.Minute) })
	for name, e := range map[string]publishers.Event{"2099": far, "six minutes ahead": soon} {
		fields := validationFields(t, e.Validate())
		if len(fields) != 1 || fields[0].Field != "time" || fields[0].Code != publishers.CodeInvalidValue {
			t.Errorf("%s: Validate = %+v, want one invalid_value problem on time", name, fields)
		}
		raw, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := publishers.Parse(raw); err == nil {
			t.Errorf("%s: Parse accepted a future time", name)
		} else if f := validationFields(t, err); f[0].Field != "time" {
			t.Errorf("%s: Parse = %+v, want the problem on time", name, f)
		}
		if _, _, err := publishers.ParseBatch(raw); err != nil {
			t.Errorf("%s: ParseBatch body error %v, want a per-event one", name, err)
		}
		// A consumer reading it back from the bus does not re-judge the
		// clock: intake already accepted it when it was not in the future.
		if _, err := publishers.ParseAccepted(raw); err != nil {
			t.Errorf("%s: ParseAccepted = %v, want nil", name, err)
		}
	}
	skewed := envelope(func(e *publishers.Event) { e.Time = time.Now().Add(publishers.MaxFutureTime - time.Minute) })
	if err := skewed.Validate(); err != nil {
		t.Errorf("four minutes ahead (clock skew) refused: %v", err)
	}
	past := envelope(func(e *publishers.Event) { e.Time = time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC) })
	if err := past.Validate(); err != nil {
		t.Errorf("a past time refused: %v", err)
	}
}
