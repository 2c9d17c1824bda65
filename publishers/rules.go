package publishers

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/nudgehq/nudge/internal/cron"
	"github.com/nudgehq/nudge/templates"
)

// The data rules of each event type, named in the catalogue (data.go). Every
// accessor runs unconditionally, even after an earlier field failed, because
// the fields a rule asks for are the type's known fields: anything else in
// the data is reported as unknown.

var (
	channels  = []string{string(ChannelSMS), string(ChannelEmail)}
	purposes  = []string{string(PurposeReminders), string(PurposeEncouragement), string(PurposeJournal), string(PurposeAnnouncements)}
	locations = []string{LocationInPerson, LocationTelehealth}
	statuses  = []string{DeliveryPending, DeliverySending, DeliverySent, DeliveryDelivered, DeliveryFailed, DeliverySkipped, DeliveryUndelivered}
)

func validateClientUpserted(r *dataReader) {
	r.id("client_id", true)
	r.text("first_name", true, MaxFirstNameLength, false)
	r.timezone("timezone")
	r.phone("phone")
	r.email("email")
	r.locale("locale")
	r.enum("preferred_channel", false, channels...)
}

func validateConsentChanged(r *dataReader) {
	r.id("client_id", true)
	r.enum("channel", true, channels...)
	r.enum("purpose", true, purposes...)
	r.text("source", true, 200, false)
	r.text("wording_version", false, 100, false)
}

func validateSessionBooked(r *dataReader) {
	r.id("session_id", true)
	r.id("client_id", true)
	r.timestamp("starts_at", true)
	r.integer("duration_min", 1, 24*60, " minutes")
	r.text("clinician_display_name", false, 100, false)
	r.enum("location_kind", false, locations...)
}

func validateSessionRescheduled(r *dataReader) {
	r.id("session_id", true)
	r.timestamp("starts_at", true)
}

func validateSessionCancelled(r *dataReader) {
	r.id("session_id", true)
	r.text("reason", false, 500, true)
}

func validateJournalDayMissed(r *dataReader) {
	r.id("client_id", true)
	r.date("date")
	r.integer("missed_days_in_row", 0, math.MaxInt32, "")
}

func validateJournalEntryWritten(r *dataReader) {
	r.id("client_id", true)
	r.date("date")
}

var weekdays = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

func validateEncouragementScheduleSet(r *dataReader) {
	r.id("client_id", true)
	r.enumList("days", "and give cron instead", weekdays...)
	at, hasAt := r.str("at", false)
	if hasAt {
		if _, err := parseClock(at); err != nil {
			r.add("at", CodeInvalidFormat, fmt.Sprintf("%s is not a time of day (expected HH:MM on a 24-hour clock, like 10:00)", quote(at)))
		}
	}
	expr, hasCron := r.str("cron", false)
	if hasCron {
		if err := cron.Validate(expr); err != nil {
			r.add("cron", CodeInvalidValue, fmt.Sprintf("%s is not a schedule the NATS server accepts: %s (expected 6 fields, seconds first, like \"0 0 10 * * mon,thu\")", quote(expr), err))
		}
	}
	r.enumList("themes", "to rotate through all seven", templates.Themes()...)

	_, hasDays := r.fields["days"]
	switch {
	case hasCron && (hasDays || hasAt):
		r.p.add("data", CodeInvalidValue, "give either data.cron or data.days with data.at, not both")
	case !hasCron && hasDays && !hasAt && !r.p.has("data.at"):
		r.add("at", CodeRequired, "is required with data.days (HH:MM on the client's clock)")
	case !hasCron && hasAt && !hasDays && !r.p.has("data.days"):
		r.add("days", CodeRequired, "is required with data.at (e.g. [\"mon\", \"thu\"])")
	case !hasCron && !hasDays && !hasAt && !r.p.has("data.cron"):
		r.p.add("data", CodeRequired, "one of data.cron (6 fields, seconds first) or data.days with data.at is required")
	}
}

// parseClock reads HH:MM on a 24-hour clock, 00:00 to 23:59.
func parseClock(s string) (time.Duration, error) {
	t, err := time.Parse("15:04", s)
	if err != nil || len(s) != 5 {
		return 0, fmt.Errorf("not HH:MM")
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}

func validateCarePaused(r *dataReader) {
	r.id("client_id", true)
	r.enum("scope", false, CareScopeNonEssential, CareScopeAll)
	r.timestamp("until", false)
	r.text("requested_by", true, 200, false)
}

func validateCareResumed(r *dataReader) {
	r.id("client_id", true)
	r.text("requested_by", true, 200, false)
}

func validateGroupUpserted(r *dataReader) {
	r.id("group_id", true)
	r.text("name", true, 200, false)
}

func validateGroupMembership(r *dataReader) {
	r.id("group_id", true)
	r.id("client_id", true)
}

func validateAnnouncementRequested(r *dataReader) {
	r.id("announcement_id", true)
	r.id("group_id", true)
	template := r.id("template", false)
	body := r.text("body", false, MaxBodyLength, true)
	r.text("requested_by", true, 200, false)
	r.enumList("channels", "to use each member's preferred channel", channels...)
	urgent := r.boolean("urgent")
	reason := r.text("urgent_reason", false, 500, false)
	r.text("lint_override_reason", false, 500, false)
	if urgent && strings.TrimSpace(reason) == "" && !r.p.has("data.urgent_reason") {
		r.add("urgent_reason", CodeRequired, "is required when urgent is true: say why it may reach people at night")
	}

	// Exactly one of the two: a template is pre-approved wording, a body is
	// staff's own; with both, nudge would have to guess which one staff meant.
	hasTemplate, hasBody := template != "", strings.TrimSpace(body) != ""
	switch {
	case hasTemplate && hasBody:
		r.p.add("data", CodeInvalidValue, "give either data.template or data.body, not both")
	case !hasTemplate && !hasBody && !r.p.has("data.template") && !r.p.has("data.body"):
		r.p.add("data", CodeRequired, "one of data.template (a named template) or data.body (free text) is required")
	}
}

func validateSessionConfirmed(r *dataReader) {
	r.id("session_id", true)
	r.id("client_id", true)
	r.enum("channel", true, channels...)
	r.timestamp("confirmed_at", true)
}

func validateSessionRescheduleRequested(r *dataReader) {
	r.id("session_id", true)
	r.id("client_id", true)
	r.enum("channel", true, channels...)
	r.timestamp("requested_at", true)
}

func validateDeliveryStatusChanged(r *dataReader) {
	r.id("delivery_id", true)
	r.id("client_id", true)
	r.enum("channel", true, channels...)
	r.enum("purpose", true, purposes...)
	r.enum("status", true, statuses...)
	r.text("reason", false, 500, false)
	r.id("provider_id", false)
	r.id("session_id", false)
	r.id("announcement_id", false)
	r.timestamp("occurred_at", true)
}

func validateClientOptedOut(r *dataReader) {
	r.id("client_id", true)
	r.enum("channel", true, channels...)
	r.text("source", true, 100, false)
	r.text("keyword", false, 50, false)
	r.timestamp("occurred_at", true)
}

func validateSafetyCrisisReply(r *dataReader) {
	r.id("client_id", true)
	r.enum("channel", true, channels...)
	r.id("inbound_message_id", true)
	r.timestamp("received_at", true)
	r.boolean("auto_reply_sent")
}
