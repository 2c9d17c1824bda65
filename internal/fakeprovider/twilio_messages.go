package fakeprovider

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

var (
	e164         = regexp.MustCompile(`^\+[1-9]\d{1,14}$`)
	shortCode    = regexp.MustCompile(`^\d{5,6}$`)
	alphaSender  = regexp.MustCompile(`^[A-Za-z0-9 ]{1,11}$`)
	messagingSid = regexp.MustCompile(`^MG[0-9a-f]{32}$`)
)

// Twilio's reserved test numbers and the errors they produce.
var (
	magicTo = map[string]int{
		"+15005550001": 21211,
		"+15005550002": 21612,
		"+15005550003": 21408,
		"+15005550004": 21610,
		"+15005550009": 21614,
	}
	magicFrom = map[string]int{
		"+15005550001": 21212,
		"+15005550007": 21606,
		"+15005550008": 21611,
	}
)

const (
	twilioDateLayout = time.RFC1123Z // "Mon, 02 Jan 2006 15:04:05 -0700", Twilio's RFC 2822 dates
	defaultMGNumber  = "+15005550006"
	maxBodyRunes     = 1600
)

// smsMessage is a stored message resource.
type smsMessage struct {
	seq            int64
	sid            string
	account        string
	direction      string
	to, from, msid string
	body           string
	statusCallback string
	status         string
	errorCode      int
	created        time.Time
	updated        time.Time
	sent           time.Time // zero until sent
	form           url.Values
}

func (m *smsMessage) captured() CapturedMessage {
	return CapturedMessage{
		Channel: "sms", Direction: m.direction, ID: m.sid,
		To: m.to, From: m.from, Body: m.body,
		StatusCallback: m.statusCallback, MessagingServiceSid: m.msid,
		Status: m.status, Created: m.created, Form: m.form,
	}.clone()
}

// messageResource is the Message resource JSON, field for field as Twilio
// returns it (and as twilio-go's ApiV2010Message unmarshals it).
type messageResource struct {
	AccountSid          string            `json:"account_sid"`
	APIVersion          string            `json:"api_version"`
	Body                string            `json:"body"`
	DateCreated         string            `json:"date_created"`
	DateSent            *string           `json:"date_sent"`
	DateUpdated         string            `json:"date_updated"`
	Direction           string            `json:"direction"`
	ErrorCode           *int              `json:"error_code"`
	ErrorMessage        *string           `json:"error_message"`
	From                *string           `json:"from"`
	MessagingServiceSid *string           `json:"messaging_service_sid"`
	NumMedia            string            `json:"num_media"`
	NumSegments         string            `json:"num_segments"`
	Price               *string           `json:"price"`
	PriceUnit           string            `json:"price_unit"`
	Sid                 string            `json:"sid"`
	Status              string            `json:"status"`
	SubresourceURIs     map[string]string `json:"subresource_uris"`
	To                  string            `json:"to"`
	URI                 string            `json:"uri"`
}

func (m *smsMessage) resource() messageResource {
	uri := "/2010-04-01/Accounts/" + m.account + "/Messages/" + m.sid
	r := messageResource{
		AccountSid:  m.account,
		APIVersion:  "2010-04-01",
		Body:        m.body,
		DateCreated: m.created.UTC().Format(twilioDateLayout),
		DateUpdated: m.updated.UTC().Format(twilioDateLayout),
		Direction:   m.direction,
		NumMedia:    "0",
		NumSegments: strconv.Itoa(segments(m.body)),
		PriceUnit:   "USD",
		Sid:         m.sid,
		Status:      m.status,
		SubresourceURIs: map[string]string{
			"media":    uri + "/Media.json",
			"feedback": uri + "/Feedback.json",
		},
		To:  m.to,
		URI: uri + ".json",
	}
	if m.msid != "" && m.from == "" {
		r.NumSegments = "0" // no sender chosen yet, as Twilio reports it
	}
	if !m.sent.IsZero() {
		s := m.sent.UTC().Format(twilioDateLayout)
		r.DateSent = &s
	}
	if m.errorCode != 0 {
		code, msg := m.errorCode, errorMessageFor(m.errorCode)
		r.ErrorCode, r.ErrorMessage = &code, &msg
	}
	if m.from != "" {
		from := m.from
		r.From = &from
	}
	if m.msid != "" {
		msid := m.msid
		r.MessagingServiceSid = &msid
	}
	if m.status == "delivered" || m.status == "undelivered" || m.status == "sent" {
		price := "-0.00790"
		r.Price = &price
	}
	return r
}

func (t *Twilio) handleCreate(w http.ResponseWriter, r *http.Request) {
	if !t.begin(w, r) {
		return
	}
	if err := r.ParseForm(); err != nil {
		writeTwilioError(w, http.StatusBadRequest, 20001, "Could not parse the request body")
		return
	}
	form := r.PostForm
	account := r.PathValue("AccountSid")
	process := func() reply { return t.create(account, form) }
	var rep reply
	if f, ok := t.takeFailure(form.Get("To")); ok {
		var done bool
		if rep, done = t.failure(w, r, f, process); done {
			return
		}
	}
	if rep.status == 0 {
		rep = process()
	}
	rep.write(w)
}

// create validates a send like Twilio does, stores the message and starts
// its delivery.
func (t *Twilio) create(account string, form url.Values) reply {
	to, from, msid := form.Get("To"), form.Get("From"), form.Get("MessagingServiceSid")
	body, callback := form.Get("Body"), form.Get("StatusCallback")
	numbers := t.numbers()
	switch {
	case to == "":
		return twilioErr(400, 21604, twilioMessages[21604])
	case from == "" && msid == "":
		return twilioErr(400, 21603, twilioMessages[21603])
	case body == "" && len(form["MediaUrl"]) == 0 && form.Get("ContentSid") == "":
		return twilioErr(400, 21602, twilioMessages[21602])
	case !e164.MatchString(to):
		return twilioErr(400, 21211, "The 'To' number "+to+" is not a valid phone number.")
	case from != "" && !e164.MatchString(from) && !shortCode.MatchString(from) && !alphaSender.MatchString(from):
		return twilioErr(400, 21212, "The 'From' number "+from+" is not a valid phone number, shortcode, or alphanumeric sender ID.")
	case msid != "" && !messagingSid.MatchString(msid):
		return twilioErr(400, 21701, "The Messaging Service Sid "+msid+" is invalid.")
	case from != "" && len(numbers) > 0 && !slices.Contains(numbers, from):
		return twilioErr(400, 21606, twilioMessages[21606])
	case utf8.RuneCountInString(body) > maxBodyRunes:
		return twilioErr(400, 21617, twilioMessages[21617])
	case callback != "" && !validCallback(callback):
		return twilioErr(400, 21609, twilioMessages[21609])
	}
	if code, ok := magicFrom[from]; ok {
		return twilioErr(400, code, twilioMessages[code])
	}
	if code, ok := magicTo[to]; ok {
		return twilioErr(400, code, twilioMessages[code])
	}
	sender := from
	if sender == "" {
		sender = msid
	}
	if ok, wait := t.allow(sender); !ok {
		rep := twilioErr(http.StatusTooManyRequests, 20429, twilioMessages[20429])
		rep.header = http.Header{"Retry-After": {strconv.Itoa(max(1, ceilSeconds(wait)))}}
		return rep
	}

	now := time.Now()
	m := &smsMessage{
		sid: "SM" + randomHex(16), account: account, direction: "outbound-api",
		to: to, from: from, msid: msid, body: body, statusCallback: callback,
		status: "queued", created: now, updated: now,
		form: url.Values(cloneValues(form)),
	}
	if msid != "" && from == "" {
		m.status = "accepted"
	}
	t.mu.Lock()
	if t.optedOut[to] {
		t.mu.Unlock()
		return twilioErr(400, 21610, twilioMessages[21610])
	}
	t.store(m)
	res := m.resource()
	t.mu.Unlock()

	t.goAsync(func() { t.deliver(m) })
	return reply{status: http.StatusCreated, body: res}
}

// store adds m; the caller holds t.mu.
func (t *Twilio) store(m *smsMessage) {
	t.seq++
	m.seq = t.seq
	t.bySid[m.sid] = m
	t.msgs = keepNewest(append(t.msgs, m), t.keep, func(old *smsMessage) { delete(t.bySid, old.sid) })
}

func validCallback(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func cloneValues(v url.Values) map[string][]string {
	out := make(map[string][]string, len(v))
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}

func (t *Twilio) handleFetch(w http.ResponseWriter, r *http.Request) {
	if !t.begin(w, r) {
		return
	}
	if f, ok := t.takeFailure(); ok {
		if _, done := t.failure(w, r, f, nil); done {
			return
		}
	}
	sid, ok := strings.CutSuffix(r.PathValue("file"), ".json")
	t.mu.Lock()
	m := t.bySid[sid]
	var res messageResource
	if m != nil {
		res = m.resource()
	}
	t.mu.Unlock()
	if !ok || m == nil || m.account != r.PathValue("AccountSid") {
		writeTwilioError(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
		return
	}
	writeJSON(w, http.StatusOK, res)
}
