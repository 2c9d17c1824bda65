package subject_test

import (
	"strings"
	"testing"
	"time"

	"github.com/nudgehq/nudge/internal/subject"
	"github.com/nudgehq/nudge/internal/vocab"
)

// The subjects are a wire format: streams on running clusters capture them,
// and producers outside nudge publish to them. A change here is a migration.
func TestSubjectsAreStable(t *testing.T) {
	for got, want := range map[string]string{
		subject.Event("session.booked"):    "nudge.events.session.booked",
		subject.Notify(vocab.SMS):          "nudge.notify.sms",
		subject.Notify(vocab.Email):        "nudge.notify.email",
		subject.Out("client.opted_out"):    "nudge.out.client.opted_out",
		subject.MaxDeliveries("NUDGE_OUT"): "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.NUDGE_OUT.*",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}

// Ids from outside may hold dots and wildcards; the subject must stay one
// token per id, and distinct ids must get distinct subjects.
func TestScheduleSubjectsHashOutsideIDs(t *testing.T) {
	a := subject.Reminder("s.1.*", 48*time.Hour)
	b := subject.Reminder("s.1.>", 48*time.Hour)
	if a == b {
		t.Fatalf("two session ids share %q", a)
	}
	for _, s := range []string{a, b, subject.Deferred("reminder:s.1:v1:2h:sms")} {
		if strings.ContainsAny(s, "*>") || strings.Count(s, ".") > 4 {
			t.Errorf("subject %q leaks the id", s)
		}
	}
	if !strings.HasSuffix(a, ".48h") || !strings.HasPrefix(a, "nudge.schedule.reminder.") {
		t.Errorf("reminder subject %q", a)
	}
	if subject.Reminder("s1", 2*time.Hour) == subject.Reminder("s1", 48*time.Hour) {
		t.Error("two offsets share a subject")
	}
}

func TestScheduleSubjectsOfJobs(t *testing.T) {
	if got := subject.Fired("encouragement"); got != "nudge.schedule.fired.encouragement" {
		t.Errorf("Fired = %q", got)
	}
	a, b := subject.Encouragement("c.1"), subject.Encouragement("c.2")
	if a == b || !strings.HasPrefix(a, "nudge.schedule.encouragement.") || strings.Count(a, ".") != 3 {
		t.Errorf("Encouragement subjects %q, %q", a, b)
	}
}
