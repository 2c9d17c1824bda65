package channel_test

import (
	"encoding/json"
	"testing"

	"github.com/nudgehq/nudge/internal/channel"
	"github.com/nudgehq/nudge/internal/fakeprovider"
)

// Message.Headers travel on the personalization, as SendGrid's v3 API
// takes them; the fake captures them, and refuses the headers SendGrid
// sets itself, as SendGrid does.
func TestSendGridHeaders(t *testing.T) {
	e := newSendGridEnv(t, fakeprovider.SendGridConfig{})
	s := e.sender(t)
	m := channel.Message{DeliveryID: "dlv_h1", To: "ada@example.com", Subject: "Hello", Text: "Hi",
		Headers: map[string]string{"List-Unsubscribe": "<https://nudge.example.org/u/tok>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}}
	if _, err := s.Send(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	got := e.fake.Messages()
	if len(got) != 1 || got[0].Headers["List-Unsubscribe"] != m.Headers["List-Unsubscribe"] || got[0].Headers["List-Unsubscribe-Post"] != "List-Unsubscribe=One-Click" {
		t.Fatalf("captured %+v", got)
	}
	var body struct {
		Personalizations []struct {
			Headers map[string]string `json:"headers"`
		} `json:"personalizations"`
	}
	if err := json.Unmarshal(got[0].JSON, &body); err != nil || body.Personalizations[0].Headers["List-Unsubscribe-Post"] == "" {
		t.Errorf("request body %s: want the headers on the personalization", got[0].JSON)
	}

	m.DeliveryID, m.Headers = "dlv_h2", map[string]string{"Subject": "spoofed"}
	_, err := s.Send(t.Context(), m)
	if pe := channel.Classify(err); err == nil || pe.Class != channel.Permanent {
		t.Errorf("a reserved header: %v, want a permanent error", err)
	}
}
