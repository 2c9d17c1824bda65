package calcom

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/nudgehq/nudge/publishers"
)

// Cal.com's booking triggers nudge maps; every other trigger (PING,
// MEETING_ENDED …) is acknowledged and ignored.
const (
	TriggerCreated     = "BOOKING_CREATED"
	TriggerRescheduled = "BOOKING_RESCHEDULED"
	TriggerCancelled   = "BOOKING_CANCELLED"
)

// webhook is the part of Cal.com's webhook body nudge reads: the default
// payload template (a custom template would not carry these fields).
type webhook struct {
	TriggerEvent string    `json:"triggerEvent"`
	CreatedAt    time.Time `json:"createdAt"`
	Payload      booking   `json:"payload"`
}

type booking struct {
	UID                string                     `json:"uid"`
	ICalUID            string                     `json:"iCalUID"`
	RescheduleUID      string                     `json:"rescheduleUid"`
	StartTime          time.Time                  `json:"startTime"`
	EndTime            time.Time                  `json:"endTime"`
	Length             int                        `json:"length"`
	Location           string                     `json:"location"`
	CancellationReason string                     `json:"cancellationReason"`
	Organizer          person                     `json:"organizer"`
	Attendees          []person                   `json:"attendees"`
	Metadata           map[string]json.RawMessage `json:"metadata"`
	Responses          map[string]json.RawMessage `json:"responses"`
	VideoCallData      *struct {
		URL string `json:"url"`
	} `json:"videoCallData"`
}

type person struct {
	Name        string `json:"name"`
	Email       string `json:"email"`
	TimeZone    string `json:"timeZone"`
	PhoneNumber string `json:"phoneNumber"`
	Language    struct {
		Locale string `json:"locale"`
	} `json:"language"`
}

// ErrUnmappable is wrapped by Map for a booking webhook nudge cannot turn
// into events (no booking uid, no start time, no attendee …).
var ErrUnmappable = errors.New("calcom: booking cannot be mapped")

// Mapping decides how Cal.com bookings become nudge clients and sessions.
type Mapping struct {
	// ClientIDField names a booking field holding the practice's own client
	// id: a key of the booking's metadata, else a booking-form question
	// (responses). When empty, or when the booking lacks it, the client id
	// is "calcom-" + the first 20 hex digits of SHA-256 of the attendee's
	// lower-cased email: stable across bookings of one person, and without
	// the address in clear.
	ClientIDField string
	// Source is the CloudEvents source of the events; default DefaultSource.
	Source string
}

// DefaultSource is the CloudEvents source of Cal.com's events.
const DefaultSource = "/calcom"

// EventSource is the CloudEvents source the mapping's events carry.
func (m Mapping) EventSource() string {
	if m.Source == "" {
		return DefaultSource
	}
	return m.Source
}

// Map turns one verified Cal.com webhook body into the events nudge
// publishes, in order: client.upserted for the attendee, then the session
// event. ignored reports a trigger nudge does not act on (no events, no
// error).
//
// The session id is "calcom-" + the booking's root uid: Cal.com gives a
// rescheduled booking a new uid but keeps the iCalUID of the booking it
// replaced ("<first uid>@Cal.com"), so the part before "@" names the
// session through any number of reschedules. Without an iCalUID the
// original uid is rescheduleUid (rescheduled) or uid.
//
// Event ids derive from the trigger, the booking uid and, for reschedules,
// the new start time, so Cal.com delivering the same webhook again yields
// the same ids: JetStream and the store record the repeat as a duplicate.
func (m Mapping) Map(body []byte) (events []publishers.Event, ignored bool, err error) {
	var w webhook
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, false, fmt.Errorf("%w: body is not a Cal.com webhook: %v", ErrUnmappable, err)
	}
	switch w.TriggerEvent {
	case TriggerCreated, TriggerRescheduled, TriggerCancelled:
	default:
		return nil, true, nil
	}
	b := w.Payload
	if b.UID == "" {
		return nil, false, fmt.Errorf("%w: payload.uid is missing", ErrUnmappable)
	}
	at := w.CreatedAt
	if at.IsZero() {
		at = time.Now()
	}
	source := m.EventSource()
	sessionID := "calcom-" + rootUID(w.TriggerEvent, b)
	build := func(typ, id string, data any) error {
		ev, err := publishers.NewEvent(typ, source, data)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrUnmappable, err)
		}
		events = append(events, ev.WithID(id).WithTime(at))
		return nil
	}

	if w.TriggerEvent == TriggerCancelled {
		err := build(publishers.TypeSessionCancelled, eventID("cancelled", b.UID),
			publishers.SessionCancelled{SessionID: sessionID, Reason: b.CancellationReason})
		return events, false, err
	}

	if b.StartTime.IsZero() {
		return nil, false, fmt.Errorf("%w: payload.startTime is missing", ErrUnmappable)
	}
	if len(b.Attendees) == 0 {
		return nil, false, fmt.Errorf("%w: payload.attendees is empty", ErrUnmappable)
	}
	client, err := m.client(b)
	if err != nil {
		return nil, false, err
	}
	start := b.StartTime.UTC().Format("20060102T150405Z")
	if err := build(publishers.TypeClientUpserted, eventID("client", b.UID, start), client); err != nil {
		return nil, false, err
	}
	if w.TriggerEvent == TriggerRescheduled {
		err = build(publishers.TypeSessionRescheduled, eventID("rescheduled", b.UID, start),
			publishers.SessionRescheduled{SessionID: sessionID, StartsAt: b.StartTime})
		return events, false, err
	}
	duration := b.Length
	if duration == 0 && b.EndTime.After(b.StartTime) {
		duration = int(b.EndTime.Sub(b.StartTime) / time.Minute)
	}
	err = build(publishers.TypeSessionBooked, eventID("booked", b.UID), publishers.SessionBooked{
		SessionID: sessionID, ClientID: client.ClientID, StartsAt: b.StartTime, DurationMin: duration,
		ClinicianDisplayName: b.Organizer.Name, LocationKind: locationKind(b),
	})
	return events, false, err
}

// rootUID is the uid of the first booking in a chain of reschedules.
func rootUID(trigger string, b booking) string {
	if root, _, _ := strings.Cut(b.ICalUID, "@"); root != "" {
		return root
	}
	if trigger == TriggerRescheduled && b.RescheduleUID != "" {
		return b.RescheduleUID
	}
	return b.UID
}

// client maps the first attendee (the booker) to a client profile.
func (m Mapping) client(b booking) (publishers.ClientUpserted, error) {
	a := b.Attendees[0]
	c := publishers.ClientUpserted{
		Email:    strings.TrimSpace(a.Email),
		Timezone: a.TimeZone,
		Locale:   a.Language.Locale,
	}
	if c.Timezone == "" {
		c.Timezone = b.Organizer.TimeZone
	}
	if first, _, _ := strings.Cut(strings.TrimSpace(a.Name), " "); first != "" {
		c.FirstName = first
	} else {
		return c, fmt.Errorf("%w: the attendee has no name", ErrUnmappable)
	}
	phone := a.PhoneNumber
	if phone == "" {
		phone = responseString(b.Responses, "attendeePhoneNumber")
	}
	if e164.MatchString(phone) {
		c.Phone = phone
	}
	if m.ClientIDField != "" {
		c.ClientID = fieldString(b.Metadata, m.ClientIDField)
		if c.ClientID == "" {
			c.ClientID = responseString(b.Responses, m.ClientIDField)
		}
	}
	if c.ClientID == "" {
		if c.Email == "" {
			return c, fmt.Errorf("%w: the attendee has no email to derive a client id from", ErrUnmappable)
		}
		sum := sha256.Sum256([]byte(strings.ToLower(c.Email)))
		c.ClientID = "calcom-" + hex.EncodeToString(sum[:10])
	}
	return c, nil
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// locationKind reads Cal.com's location: an app integration
// ("integrations:zoom"), a URL or video call data is telehealth; an
// address or "inPerson" is in person; a phone call or nothing is unknown.
func locationKind(b booking) string {
	loc := strings.TrimSpace(b.Location)
	switch {
	case strings.HasPrefix(loc, "integrations:"), strings.HasPrefix(loc, "http://"), strings.HasPrefix(loc, "https://"),
		b.VideoCallData != nil && b.VideoCallData.URL != "", fieldString(b.Metadata, "videoCallUrl") != "":
		return publishers.LocationTelehealth
	case loc == "", loc == "phone", loc == "userPhone", loc == "attendeePhone":
		return ""
	}
	return publishers.LocationInPerson
}

// fieldString is m[key] when it is a JSON string.
func fieldString(m map[string]json.RawMessage, key string) string {
	var s string
	if raw, ok := m[key]; ok && json.Unmarshal(raw, &s) == nil {
		return strings.TrimSpace(s)
	}
	return ""
}

// responseString reads a booking-form answer, which Cal.com sends either
// as {"label": …, "value": "…"} or as the bare value.
func responseString(m map[string]json.RawMessage, key string) string {
	raw, ok := m[key]
	if !ok {
		return ""
	}
	var labelled struct {
		Value string `json:"value"`
	}
	if json.Unmarshal(raw, &labelled) == nil && labelled.Value != "" {
		return strings.TrimSpace(labelled.Value)
	}
	return fieldString(m, key)
}

// eventID builds a deterministic CloudEvents id from its parts; parts that
// are not plain tokens (or too long) are hashed.
func eventID(kind string, parts ...string) string {
	id := "calcom-" + kind
	for _, p := range parts {
		id += "-" + p
	}
	if plainID.MatchString(id) && len(id) <= 120 {
		return id
	}
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return "calcom-" + kind + "-" + hex.EncodeToString(sum[:16])
}

var plainID = regexp.MustCompile(`^[A-Za-z0-9_.:-]+$`)
