package fakeprovider

import (
	"maps"
	"net/url"
	"time"
)

// CapturedMessage is one message a fake accepted (or, for Twilio, received).
// SendGrid requests are captured once per recipient.
type CapturedMessage struct {
	Channel   string `json:"channel"`   // "sms" or "email"
	Direction string `json:"direction"` // Twilio: "outbound-api", "outbound-reply" (TwiML) or "inbound"; SendGrid: "outbound"
	// ID is the Twilio message SID, or SendGrid's X-Message-Id (shared by
	// every recipient of one request).
	ID string `json:"id"`
	// EventMessageID is SendGrid's per-recipient sg_message_id, as events and
	// the Email Activity API show it.
	EventMessageID string `json:"event_message_id,omitempty"`

	To   string `json:"to"`
	From string `json:"from"`

	Body                string `json:"body,omitempty"` // SMS text
	StatusCallback      string `json:"status_callback,omitempty"`
	MessagingServiceSid string `json:"messaging_service_sid,omitempty"`

	Subject    string            `json:"subject,omitempty"`
	Text       string            `json:"text,omitempty"`
	HTML       string            `json:"html,omitempty"`
	CustomArgs map[string]string `json:"custom_args,omitempty"` // message-level merged with the personalization's
	Headers    map[string]string `json:"headers,omitempty"`     // email headers, message-level merged with the personalization's

	// Status is the latest status: Twilio's message status ("queued",
	// "sent", "delivered"...), SendGrid's latest event ("processed",
	// "delivered", "bounce"...).
	Status  string    `json:"status"`
	Created time.Time `json:"created"`

	// Form is the Twilio request's form exactly as posted; JSON is the
	// SendGrid request body exactly as posted.
	Form url.Values `json:"form,omitempty"`
	JSON []byte     `json:"json,omitempty"`
}

func (m CapturedMessage) clone() CapturedMessage {
	m.CustomArgs = maps.Clone(m.CustomArgs)
	m.Headers = maps.Clone(m.Headers)
	if m.Form != nil {
		m.Form = url.Values(maps.Clone(map[string][]string(m.Form)))
	}
	m.JSON = append([]byte(nil), m.JSON...)
	return m
}
