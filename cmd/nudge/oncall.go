package main

import "github.com/nudgehq/nudge/consumers/oncall"

// onCallFlags name the on-call staff that dev and serve alert when a
// client's message needs urgent attention.
type onCallFlags struct {
	CrisisAlertSMS   []string `name:"crisis-alert-sms" help:"On-call staff phone numbers (E.164, comma-separated) that get an SMS when a message needs urgent attention." placeholder:"NUMBERS"`
	CrisisAlertEmail []string `name:"crisis-alert-email" help:"On-call staff email addresses (comma-separated) that get an email when a message needs urgent attention." placeholder:"ADDRESSES"`
}

// onCall is the on-call configuration; the alert's link is built on the
// practice's public URL.
func (f onCallFlags) onCall() oncall.Config {
	return oncall.Config{SMS: f.CrisisAlertSMS, Email: f.CrisisAlertEmail}
}
