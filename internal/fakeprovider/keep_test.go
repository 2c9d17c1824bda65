package fakeprovider_test

import (
	"fmt"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/sendgrid/sendgrid-go/helpers/mail"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/nudgehq/nudge/internal/fakeprovider"
)

// TestTwilioKeepsTheNewest: with Keep set, the fake remembers only the
// newest messages: Messages lists them, and an older one is no longer found.
func TestTwilioKeepsTheNewest(t *testing.T) {
	fake, srv := startTwilio(t, fakeprovider.TwilioConfig{Keep: 3})
	api := twilioAPI(t, srv, fake.AccountSid(), fake.AccountSid(), fake.AuthToken(), 5*time.Second)
	var sids []string
	for i := range 7 {
		m, err := send(api, "+14155550100", "+14155550199", fmt.Sprintf("message %d", i), "")
		if err != nil {
			t.Fatalf("CreateMessage %d: %v", i, err)
		}
		sids = append(sids, *m.Sid)
	}
	wait(t, fake)
	msgs := fake.Messages()
	if len(msgs) != 3 {
		t.Fatalf("remembers %d messages, want 3", len(msgs))
	}
	for i, m := range msgs {
		if want := fmt.Sprintf("message %d", 4+i); m.Body != want || m.ID != sids[4+i] {
			t.Fatalf("message %d is %q (%s), want %q (%s)", i, m.Body, m.ID, want, sids[4+i])
		}
	}
	if _, err := api.FetchMessage(sids[3], &openapi.FetchMessageParams{}); err == nil {
		t.Fatalf("fetching a forgotten message succeeded")
	} else if e := restError(t, err); e.Status != 404 {
		t.Fatalf("fetching a forgotten message: status %d, want 404", e.Status)
	}
	if _, err := api.FetchMessage(sids[6], &openapi.FetchMessageParams{}); err != nil {
		t.Fatalf("fetching the newest message: %v", err)
	}
}

// TestSendGridKeepsTheNewest: the same bound for the fake SendGrid.
func TestSendGridKeepsTheNewest(t *testing.T) {
	fake, srv := startSendGrid(t, fakeprovider.SendGridConfig{Keep: 2})
	for i := range 5 {
		resp := sgSend(t, srv, fake.APIKey(), mail.GetRequestBody(newMail(fmt.Sprintf("sam%d@example.com", i), fmt.Sprintf("del-%d", i))))
		if resp.StatusCode != 202 {
			t.Fatalf("send %d: %d", i, resp.StatusCode)
		}
	}
	wait(t, fake)
	msgs := fake.Messages()
	if len(msgs) != 2 || msgs[0].To != "sam3@example.com" || msgs[1].To != "sam4@example.com" {
		t.Fatalf("remembers %+v, want the mails to sam3 and sam4", msgs)
	}
}

// TestKeepZeroRemembersAll: the default keeps every message.
func TestKeepZeroRemembersAll(t *testing.T) {
	fake, srv := startSendGrid(t, fakeprovider.SendGridConfig{})
	for i := range 5 {
		sgSend(t, srv, fake.APIKey(), mail.GetRequestBody(newMail(fmt.Sprintf("sam%d@example.com", i), "d")))
	}
	if n := len(fake.Messages()); n != 5 {
		t.Fatalf("remembers %d messages, want 5", n)
	}
}

// TestTwilioKeepBoundsWebhooks: the webhook calls the fake remembers are
// bounded by Keep too, newest kept; every callback is still posted.
func TestTwilioKeepBoundsWebhooks(t *testing.T) {
	fake, srv := startTwilio(t, fakeprovider.TwilioConfig{Keep: 3})
	api := twilioAPI(t, srv, fake.AccountSid(), fake.AccountSid(), fake.AuthToken(), 5*time.Second)
	sink := &webhookSink{}
	hooks := httptest.NewServer(sink)
	defer hooks.Close()
	var last string
	for i := range 3 {
		m, err := send(api, "+14155550100", "+14155550199", fmt.Sprintf("message %d", i), hooks.URL+"/status")
		if err != nil {
			t.Fatalf("CreateMessage %d: %v", i, err)
		}
		last = *m.Sid
		wait(t, fake) // one message's callbacks at a time, so the order is known
	}
	if n := len(sink.all()); n != 6 {
		t.Fatalf("posted %d callbacks, want 6 (sent and delivered for each)", n)
	}
	got := fake.Webhooks()
	if len(got) != 3 {
		t.Fatalf("remembers %d webhook calls, want 3", len(got))
	}
	form, err := url.ParseQuery(string(got[2].Body))
	if err != nil || form.Get("MessageSid") != last || form.Get("MessageStatus") != "delivered" {
		t.Fatalf("the newest remembered call is %q, want the last message's delivered callback", got[2].Body)
	}
}
