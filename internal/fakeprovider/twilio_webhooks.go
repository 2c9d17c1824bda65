package fakeprovider

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// SMSOutcome decides how a fake SMS ends.
type SMSOutcome struct {
	// Status is the final status: "delivered" (the default), "undelivered"
	// (sent, then the carrier could not deliver) or "failed" (never sent).
	Status string
	// ErrorCode is reported with undelivered and failed messages. Default:
	// 30003 (unreachable handset) for undelivered, 30008 for failed.
	ErrorCode int
}

// SetOutcome decides how messages to recipient end from now on; recipient
// "" sets the default for everyone else.
func (t *Twilio) SetOutcome(recipient string, o SMSOutcome) {
	if o.Status == "" {
		o.Status = "delivered"
	}
	if o.ErrorCode == 0 {
		switch o.Status {
		case "undelivered":
			o.ErrorCode = 30003
		case "failed":
			o.ErrorCode = 30008
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.outcomes[recipient] = o
}

func (t *Twilio) outcomeFor(recipient string) SMSOutcome {
	t.mu.Lock()
	defer t.mu.Unlock()
	if o, ok := t.outcomes[recipient]; ok {
		return o
	}
	if o, ok := t.outcomes[""]; ok {
		return o
	}
	return SMSOutcome{Status: "delivered"}
}

var deliveryErrors = map[int]string{
	30003: "Unreachable destination handset",
	30005: "Unknown destination handset",
	30006: "Landline or unreachable carrier",
	30007: "Message filtered",
	30008: "Unknown error",
}

func errorMessageFor(code int) string {
	if m, ok := deliveryErrors[code]; ok {
		return m
	}
	return twilioMessageFor(code)
}

// deliver walks a message through its statuses, posting a status callback
// for each change as Twilio does: sent then delivered, sent then
// undelivered, or failed.
func (t *Twilio) deliver(m *smsMessage) {
	t.mu.Lock()
	delay := t.cfg.StatusDelay
	t.mu.Unlock()
	if !t.sleep(delay) {
		return
	}
	if m.msid != "" && m.from == "" {
		from := defaultMGNumber
		if nums := t.numbers(); len(nums) > 0 {
			from = nums[0]
		}
		t.mu.Lock()
		m.from, m.status, m.updated = from, "queued", time.Now()
		t.mu.Unlock()
	}
	out := t.outcomeFor(m.to)
	if out.Status == "failed" {
		t.advance(m, "failed", out.ErrorCode)
		return
	}
	t.advance(m, "sent", 0)
	if !t.sleep(delay) {
		return
	}
	if out.Status == "undelivered" {
		t.advance(m, "undelivered", out.ErrorCode)
		return
	}
	t.advance(m, "delivered", 0)
}

// advance sets a message's status and posts its status callback.
func (t *Twilio) advance(m *smsMessage, status string, errorCode int) {
	now := time.Now()
	t.mu.Lock()
	m.status, m.updated, m.errorCode = status, now, errorCode
	if status == "sent" {
		m.sent = now
	}
	form := url.Values{
		"AccountSid":    {m.account},
		"ApiVersion":    {"2010-04-01"},
		"From":          {m.from},
		"MessageSid":    {m.sid},
		"MessageStatus": {status},
		"SmsSid":        {m.sid},
		"SmsStatus":     {status},
		"To":            {m.to},
	}
	if m.msid != "" {
		form.Set("MessagingServiceSid", m.msid)
	}
	if errorCode != 0 {
		form.Set("ErrorCode", strconv.Itoa(errorCode))
	}
	if status == "delivered" {
		form.Set("RawDlrDoneDate", now.UTC().Format("0601021504"))
	}
	callback, token := m.statusCallback, t.cfg.AuthToken
	t.mu.Unlock()
	if callback == "" {
		return
	}
	ctx, cancel := t.asyncContext()
	defer cancel()
	t.postSigned(ctx, "status_callback", callback, form, token)
}

// postSigned posts form to rawURL signed with X-Twilio-Signature.
func (t *Twilio) postSigned(ctx context.Context, kind, rawURL string, form url.Values, token string) (WebhookCall, []byte) {
	h := http.Header{}
	h.Set("Content-Type", "application/x-www-form-urlencoded")
	h.Set("User-Agent", "TwilioProxy/1.1")
	h.Set("I-Twilio-Idempotency-Token", randomHex(16))
	h.Set("X-Twilio-Signature", SignTwilio(token, rawURL, form))
	return t.post(ctx, kind, rawURL, h, []byte(form.Encode()))
}

// SignTwilio computes the X-Twilio-Signature Twilio sends with a
// form-encoded POST of params to fullURL: HMAC-SHA1, keyed with the account's
// auth token, over the full URL (query included) followed by every parameter
// name and value in name order, base64-encoded.
func SignTwilio(authToken, fullURL string, params url.Values) string {
	var b strings.Builder
	b.WriteString(fullURL)
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, v := range params[k] {
			b.WriteString(k)
			b.WriteString(v)
		}
	}
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Twilio's default opt-out handling keywords.
var (
	stopWords  = []string{"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
	startWords = []string{"START", "UNSTOP", "YES"}
	helpWords  = []string{"HELP", "INFO"}
)

// Inbound simulates a client texting body from their phone (from) to one of
// the account's numbers (to): it records the message and posts Twilio's
// incoming-message webhook to webhookURL, signed with X-Twilio-Signature. As
// with Twilio's default opt-out handling, a body of exactly STOP (STOPALL,
// UNSUBSCRIBE, CANCEL, END, QUIT…) makes later sends to from fail with
// 21610 until START/UNSTOP/YES, and the webhook carries OptOutType. A TwiML
// <Message> in the response is sent back to from as an "outbound-reply".
//
// It returns an error when the webhook cannot be reached or answers other
// than 2xx.
func (t *Twilio) Inbound(ctx context.Context, webhookURL, from, to, body string) error {
	now := time.Now()
	keyword := strings.ToUpper(strings.TrimSpace(body))
	t.mu.Lock()
	m := &smsMessage{
		sid: "SM" + randomHex(16), account: t.cfg.AccountSid, direction: "inbound",
		to: to, from: from, body: body, status: "received",
		created: now, updated: now, sent: now,
	}
	t.store(m)
	var optOutType string
	switch {
	case slices.Contains(stopWords, keyword):
		t.optedOut[from] = true
		optOutType = "STOP"
	case slices.Contains(startWords, keyword):
		delete(t.optedOut, from)
		optOutType = "START"
	case slices.Contains(helpWords, keyword):
		optOutType = "HELP"
	}
	token := t.cfg.AuthToken
	form := url.Values{
		"AccountSid":    {m.account},
		"ApiVersion":    {"2010-04-01"},
		"Body":          {body},
		"From":          {from},
		"MessageSid":    {m.sid},
		"NumMedia":      {"0"},
		"NumSegments":   {strconv.Itoa(segments(body))},
		"SmsMessageSid": {m.sid},
		"SmsSid":        {m.sid},
		"SmsStatus":     {"received"},
		"To":            {to},
	}
	t.mu.Unlock()
	if optOutType != "" {
		form.Set("OptOutType", optOutType)
	}
	call, resp := t.postSigned(ctx, "inbound", webhookURL, form, token)
	if call.Err != nil {
		return fmt.Errorf("fakeprovider: posting inbound webhook: %w", call.Err)
	}
	if call.Status < 200 || call.Status > 299 {
		return fmt.Errorf("fakeprovider: inbound webhook answered %d: %s", call.Status, strings.TrimSpace(string(resp)))
	}
	for _, text := range twimlMessages(resp) {
		t.reply(to, from, text)
	}
	return nil
}

// reply sends a TwiML <Message> reply from the account's number.
func (t *Twilio) reply(from, to, body string) {
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	m := &smsMessage{
		sid: "SM" + randomHex(16), account: t.cfg.AccountSid, direction: "outbound-reply",
		to: to, from: from, body: body, status: "queued", created: now, updated: now,
	}
	t.store(m)
	if t.optedOut[to] {
		m.status, m.errorCode = "failed", 21610
		return
	}
	t.goAsync(func() { t.deliver(m) })
}

// twimlMessages returns the texts of the <Message> verbs in a TwiML
// response; anything that is not TwiML yields none.
func twimlMessages(body []byte) []string {
	var doc struct {
		XMLName  xml.Name `xml:"Response"`
		Messages []struct {
			Text string `xml:",chardata"`
			Body string `xml:"Body"`
		} `xml:"Message"`
	}
	if xml.Unmarshal(body, &doc) != nil {
		return nil
	}
	var out []string
	for _, m := range doc.Messages {
		text := strings.TrimSpace(m.Body)
		if text == "" {
			text = strings.TrimSpace(m.Text)
		}
		if text != "" {
			out = append(out, text)
		}
	}
	return out
}
