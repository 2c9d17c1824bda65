package main

import (
	"net/mail"
	"net/url"
	"strings"
	"time"

	"github.com/nudgehq/nudge/consumers"
	"github.com/nudgehq/nudge/internal/app"
	"github.com/nudgehq/nudge/internal/channel"
	"github.com/nudgehq/nudge/internal/pacing"
	"github.com/nudgehq/nudge/internal/quiethours"
	"github.com/nudgehq/nudge/internal/vocab"
)

// providerFlags configure the real providers and what messages say about
// the practice, for `nudge serve`.
type providerFlags struct {
	PublicURL string `name:"public-url" help:"Where providers reach nudge (webhooks, unsubscribe links), e.g. https://nudge.example.org." placeholder:"URL"`

	PracticeName    string `help:"Practice name used in messages." placeholder:"NAME"`
	PracticeAddress string `help:"Practice postal address (required in email)." placeholder:"ADDRESS"`
	CrisisLine      string `help:"Crisis line named in crisis replies and footers." default:"988"`
	TemplatesDir    string `help:"Directory of template overrides." type:"existingdir" placeholder:"DIR"`

	TwilioAccountSID          string `name:"twilio-account-sid" help:"Twilio account SID (AC...)." placeholder:"SID"`
	TwilioAuthToken           string `name:"twilio-auth-token" help:"Twilio auth token: authenticates calls unless an API key is set, and verifies webhook signatures."`
	TwilioAPIKey              string `name:"twilio-api-key" help:"Twilio API key SID (SK...), instead of the auth token for calls." placeholder:"SID"`
	TwilioAPISecret           string `name:"twilio-api-secret" help:"Secret of the Twilio API key."`
	TwilioFrom                string `name:"twilio-from" help:"Sender number (E.164), unless a messaging service is set." placeholder:"NUMBER"`
	TwilioMessagingServiceSID string `name:"twilio-messaging-service-sid" help:"Twilio Messaging Service SID (MG...)." placeholder:"SID"`

	TwilioAPIURL   string `name:"twilio-api-url" help:"Twilio API base URL instead of https://api.twilio.com: a regional endpoint, an egress proxy, or a fake (nudge fakeprovider)." placeholder:"URL"`
	SendGridAPIURL string `name:"sendgrid-api-url" help:"SendGrid API base URL instead of https://api.sendgrid.com: the EU endpoint, an egress proxy, or a fake (nudge fakeprovider)." placeholder:"URL"`

	SendGridAPIKey     string `name:"sendgrid-api-key" help:"SendGrid API key (mail.send; email_activity.read for crash reconciliation)."`
	SendGridFrom       string `name:"sendgrid-from" help:"Verified sender address." placeholder:"EMAIL"`
	SendGridWebhookKey string `name:"sendgrid-webhook-key" help:"Public key of SendGrid's signed event webhook (base64, from SendGrid's settings)."`

	DeliverWorkers int `name:"deliver-workers" help:"Notifications one process sends at once (pacing still holds each channel's rate)." default:"32"`

	SMSRate   float64 `name:"sms-rate" help:"SMS per second, shared by all processes (a Twilio long code sends about 1; toll-free 3)." default:"1"`
	EmailRate float64 `name:"email-rate" help:"Email requests per second, shared by all processes." default:"10"`
}

// problems lists every missing or invalid provider setting.
func (p providerFlags) problems() []string {
	var out []string
	add := func(s string) { out = append(out, s) }
	if u, err := url.Parse(p.PublicURL); p.PublicURL == "" || err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		add("NUDGE_PUBLIC_URL (--public-url) is required: the https:// address providers call back, e.g. https://nudge.example.org")
	}
	if strings.TrimSpace(p.PracticeName) == "" {
		add("NUDGE_PRACTICE_NAME (--practice-name) is required: messages name the practice")
	}
	sms := p.TwilioAccountSID != "" || p.TwilioAuthToken != "" || p.TwilioFrom != "" || p.TwilioMessagingServiceSID != "" || p.TwilioAPIKey != ""
	email := p.SendGridAPIKey != "" || p.SendGridFrom != ""
	if !sms && !email {
		add("no channel configured: set NUDGE_TWILIO_* for SMS and/or NUDGE_SENDGRID_* for email")
	}
	if sms {
		if !strings.HasPrefix(p.TwilioAccountSID, "AC") {
			add("NUDGE_TWILIO_ACCOUNT_SID (--twilio-account-sid) must be an account SID (AC...)")
		}
		if p.TwilioAuthToken == "" {
			add("NUDGE_TWILIO_AUTH_TOKEN (--twilio-auth-token) is required: it verifies Twilio's webhook signatures")
		}
		if (p.TwilioAPIKey == "") != (p.TwilioAPISecret == "") {
			add("NUDGE_TWILIO_API_KEY and NUDGE_TWILIO_API_SECRET go together")
		}
		if p.TwilioFrom == "" && p.TwilioMessagingServiceSID == "" {
			add("NUDGE_TWILIO_FROM or NUDGE_TWILIO_MESSAGING_SERVICE_SID is required to send SMS")
		}
	}
	if email {
		if p.SendGridAPIKey == "" {
			add("NUDGE_SENDGRID_API_KEY (--sendgrid-api-key) is required to send email")
		}
		if a, err := mail.ParseAddress(p.SendGridFrom); err != nil || a.Address != p.SendGridFrom {
			add("NUDGE_SENDGRID_FROM (--sendgrid-from) must be the verified sender address")
		}
		if p.SendGridWebhookKey == "" {
			add("NUDGE_SENDGRID_WEBHOOK_KEY (--sendgrid-webhook-key) is required: bounces, spam reports and unsubscribes arrive through the signed event webhook")
		}
		if strings.TrimSpace(p.PracticeAddress) == "" {
			add("NUDGE_PRACTICE_ADDRESS (--practice-address) is required with email: every email carries the practice's postal address")
		}
	}
	for _, u := range []struct{ env, flag, val string }{
		{"NUDGE_TWILIO_API_URL", "--twilio-api-url", p.TwilioAPIURL},
		{"NUDGE_SENDGRID_API_URL", "--sendgrid-api-url", p.SendGridAPIURL},
	} {
		if pu, err := url.Parse(u.val); u.val != "" && (err != nil || pu.Host == "" || (pu.Scheme != "https" && pu.Scheme != "http")) {
			add(u.env + " (" + u.flag + ") must be an absolute http(s) URL, e.g. https://api.dublin.ie1.twilio.com")
		}
	}
	if p.DeliverWorkers < 1 || p.DeliverWorkers > 256 {
		add("NUDGE_DELIVER_WORKERS (--deliver-workers) must be 1 to 256")
	}
	if p.SMSRate <= 0 || p.EmailRate <= 0 {
		add("NUDGE_SMS_RATE and NUDGE_EMAIL_RATE must be positive")
	}
	return out
}

// delivery builds the delivery configuration from the flags.
func (p providerFlags) delivery(window quiethours.Window) app.Delivery {
	publicURL := strings.TrimRight(p.PublicURL, "/")
	d := app.Delivery{
		Practice:           consumers.Practice{Name: p.PracticeName, PostalAddress: p.PracticeAddress, CrisisLine: p.CrisisLine, PublicURL: publicURL},
		TemplatesDir:       p.TemplatesDir,
		Rates:              pacing.Limits{string(vocab.SMS): p.SMSRate, string(vocab.Email): p.EmailRate},
		QuietHours:         window,
		SendGridWebhookKey: p.SendGridWebhookKey,
		Workers:            p.DeliverWorkers,
	}
	if p.TwilioAccountSID != "" {
		tc := &channel.TwilioConfig{
			AccountSid: p.TwilioAccountSID, From: p.TwilioFrom, MessagingServiceSid: p.TwilioMessagingServiceSID,
			StatusCallbackURL: publicURL + "/webhooks/twilio/status", HTTPTimeout: 15 * time.Second,
			BaseURL: p.TwilioAPIURL,
		}
		if p.TwilioAPIKey != "" {
			tc.APIKeySid, tc.APIKeySecret = p.TwilioAPIKey, p.TwilioAPISecret
		} else {
			tc.AuthToken = p.TwilioAuthToken
		}
		d.Twilio = tc
		d.TwilioWebhookToken = p.TwilioAuthToken
	}
	if p.SendGridAPIKey != "" {
		d.SendGrid = &channel.SendGridConfig{APIKey: p.SendGridAPIKey, FromEmail: p.SendGridFrom, FromName: p.PracticeName, HTTPTimeout: 15 * time.Second, BaseURL: p.SendGridAPIURL}
	}
	return d
}
