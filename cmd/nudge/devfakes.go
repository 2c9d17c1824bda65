package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/nudgehq/nudge/internal/channel"
	"github.com/nudgehq/nudge/internal/fakeprovider"
	"github.com/nudgehq/nudge/internal/vocab"
)

// devProviders are the local fake Twilio and SendGrid APIs that dev mode
// uses as its outbox: the real SDK code path runs against them, and nothing
// leaves the machine.
type devProviders struct {
	twilio       *fakeprovider.Twilio
	sendgrid     *fakeprovider.SendGrid
	twilioSrv    *fakeprovider.Server
	sendgridSrv  *fakeprovider.Server
	twilioFrom   string
	sendgridFrom string
}

// devFakeKeep: the dev fakes (and so /v1/dev/outbox) remember the newest
// 10,000 messages, so a dev server left running does not grow without end.
const devFakeKeep = 10000

func startDevProviders(publicURL, twilioAccount, twilioToken string) (*devProviders, error) {
	p := &devProviders{twilioFrom: "+15005550006", sendgridFrom: "reminders@practice.example"}
	p.twilio = fakeprovider.NewTwilio(fakeprovider.TwilioConfig{AccountSid: twilioAccount, AuthToken: twilioToken, StatusDelay: 500 * time.Millisecond, Keep: devFakeKeep})
	p.sendgrid = fakeprovider.NewSendGrid(fakeprovider.SendGridConfig{EventWebhookURL: publicURL + "/webhooks/sendgrid/events", EventDelay: 500 * time.Millisecond, Keep: devFakeKeep})
	var err error
	if p.twilioSrv, err = p.twilio.Start(); err != nil {
		return nil, fmt.Errorf("starting fake Twilio: %w", err)
	}
	if p.sendgridSrv, err = p.sendgrid.Start(); err != nil {
		p.twilioSrv.Close()
		return nil, fmt.Errorf("starting fake SendGrid: %w", err)
	}
	return p, nil
}

func (p *devProviders) Close() {
	p.twilioSrv.Close()
	p.sendgridSrv.Close()
}

func (p *devProviders) twilioConfig(publicURL string) *channel.TwilioConfig {
	return &channel.TwilioConfig{
		AccountSid:        p.twilio.AccountSid(),
		AuthToken:         p.twilio.AuthToken(),
		From:              p.twilioFrom,
		StatusCallbackURL: publicURL + "/webhooks/twilio/status",
		BaseURL:           p.twilioSrv.URL,
	}
}

func (p *devProviders) sendgridConfig() *channel.SendGridConfig {
	return &channel.SendGridConfig{
		APIKey:    p.sendgrid.APIKey(),
		FromEmail: p.sendgridFrom,
		FromName:  "nudge dev",
		BaseURL:   p.sendgridSrv.URL,
	}
}

// outboxMessage is one captured message as GET /v1/dev/outbox shows it.
type outboxMessage struct {
	Channel    vocab.Channel `json:"channel"`
	To         string        `json:"to"`
	Body       string        `json:"body,omitempty"`
	Subject    string        `json:"subject,omitempty"`
	DeliveryID string        `json:"delivery_id,omitempty"`
	// Headers are an email's extra headers (List-Unsubscribe...).
	Headers    map[string]string `json:"headers,omitempty"`
	ProviderID string            `json:"provider_id"`
	Status     string            `json:"status"`
	Time       time.Time         `json:"time"`
}

// outbox serves GET /v1/dev/outbox: every message the fakes captured,
// newest first.
func (p *devProviders) outbox() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var out []outboxMessage
		for _, m := range p.twilio.Messages() {
			if m.Direction == "inbound" {
				continue
			}
			d := ""
			if u, err := url.Parse(m.StatusCallback); err == nil {
				d = u.Query().Get("d")
			}
			out = append(out, outboxMessage{Channel: vocab.SMS, To: m.To, Body: m.Body, DeliveryID: d, ProviderID: m.ID, Status: m.Status, Time: m.Created})
		}
		for _, m := range p.sendgrid.Messages() {
			out = append(out, outboxMessage{Channel: vocab.Email, To: m.To, Subject: m.Subject, Body: m.Text, DeliveryID: m.CustomArgs["delivery_id"], Headers: m.Headers, ProviderID: m.ID, Status: m.Status, Time: m.Created})
		}
		slices.SortFunc(out, func(a, b outboxMessage) int { return cmp.Compare(b.Time.UnixNano(), a.Time.UnixNano()) })
		if out == nil {
			out = []outboxMessage{}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"messages": out})
	})
}

// inbound serves POST /v1/dev/inbound {"from": "+1415…", "body": "STOP"}:
// the fake Twilio delivers it to nudge's signed inbound webhook exactly as
// Twilio would, so dev mode can try STOP, HELP, C and crisis replies.
func (p *devProviders) inbound(publicURL string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			From string `json:"from"`
			Body string `json:"body"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&in); err != nil || in.From == "" || in.Body == "" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{
				"code": "invalid_inbound", "message": `send {"from": "+14155550123", "body": "STOP"}`}})
			return
		}
		if err := p.twilio.Inbound(r.Context(), publicURL+"/webhooks/twilio/inbound", in.From, p.twilioFrom, in.Body); err != nil {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadGateway)
			_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": "inbound_failed", "message": err.Error()}})
			return
		}
		w.WriteHeader(http.StatusAccepted)
	})
}
