package main

import (
	"time"

	"github.com/nudgehq/nudge/consumers"
	"github.com/nudgehq/nudge/internal/calcom"
	"github.com/nudgehq/nudge/internal/quiethours"
)

// reminderFlags are the appointment-reminder and Cal.com settings that dev
// and serve share (NUDGE_REMINDER_OFFSETS, NUDGE_QUIET_HOURS, …).
type reminderFlags struct {
	ReminderOffsets        consumers.ReminderOffsets `name:"reminder-offsets" help:"When reminders go, before the session: comma-separated Go durations." default:"48h,2h"`
	ReminderStaleness      time.Duration             `name:"reminder-staleness" help:"How late a reminder may still go (after an outage, say); a later one is skipped as expired." default:"30m"`
	QuietHours             quiethours.Window         `name:"quiet-hours" help:"When messages may reach a client, on the client's own clock; reminders due outside it move earlier." default:"08:00-21:00"`
	SendBookedConfirmation bool                      `name:"send-booked-confirmation" help:"Send a \"you're booked\" message when a session is booked." default:"true" negatable:""`
	TelehealthURL          string                    `name:"telehealth-url" help:"The practice's telehealth link, put in reminders of telehealth sessions." placeholder:"URL"`
	CalcomSecret           string                    `name:"calcom-secret" help:"Secret key of the Cal.com webhook; POST /webhooks/calcom refuses every request without it." placeholder:"SECRET"`
	CalcomTrustContact     bool                      `name:"calcom-trust-contact" help:"Let a Cal.com booking replace an existing client's phone or email; by default the change goes to the staff inbox to confirm and the stored contact stays."`
	CalcomClientIDField    string                    `name:"calcom-client-id-field" help:"Cal.com booking metadata key or booking-form field that holds your client id (default: an id derived from the attendee's email)." placeholder:"FIELD"`
}

func (f reminderFlags) reminders() consumers.ReminderConfig {
	return consumers.ReminderConfig{
		Offsets:            f.ReminderOffsets,
		Staleness:          f.ReminderStaleness,
		Policy:             quiethours.ReminderPolicy{Window: f.QuietHours},
		TelehealthURL:      f.TelehealthURL,
		BookedConfirmation: f.SendBookedConfirmation,
	}
}

func (f reminderFlags) calcom() calcom.Config {
	return calcom.Config{Secret: f.CalcomSecret, TrustContact: f.CalcomTrustContact, Mapping: calcom.Mapping{ClientIDField: f.CalcomClientIDField}}
}
