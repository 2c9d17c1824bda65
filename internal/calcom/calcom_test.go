package calcom

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nudgehq/nudge/internal/bus"
	"github.com/nudgehq/nudge/internal/bus/bustest"
	"github.com/nudgehq/nudge/publishers"
)

const secret = "whsec-test-3f9a"

// webhookBody builds a Cal.com webhook body in the default payload shape.
func webhookBody(t *testing.T, trigger, uid, rescheduleUID string, start time.Time, extra map[string]any) []byte {
	t.Helper()
	payload := map[string]any{
		"type":      "50min",
		"title":     "50min between Dr Example and Ana Lopez",
		"startTime": start.UTC().Format(time.RFC3339),
		"endTime":   start.Add(50 * time.Minute).UTC().Format(time.RFC3339),
		"organizer": map[string]any{"id": 5, "name": "Dr Example", "email": "dr@practice.example", "timeZone": "America/New_York", "language": map[string]any{"locale": "en"}},
		"attendees": []any{map[string]any{
			"email": "Ana.Lopez@example.org", "name": "Ana Lopez", "timeZone": "America/Chicago",
			"language": map[string]any{"locale": "es"},
		}},
		"responses": map[string]any{
			"name":                map[string]any{"label": "your_name", "value": "Ana Lopez"},
			"attendeePhoneNumber": map[string]any{"label": "phone", "value": "+14155550123"},
		},
		"location":  "integrations:daily",
		"uid":       uid,
		"iCalUID":   "root@Cal.com",
		"length":    50,
		"bookingId": 91,
		"metadata":  map[string]any{"videoCallUrl": "https://app.cal.com/video/x"},
		"status":    "ACCEPTED",
	}
	if rescheduleUID != "" {
		payload["rescheduleUid"] = rescheduleUID
	}
	for k, v := range extra {
		if v == nil {
			delete(payload, k)
			continue
		}
		payload[k] = v
	}
	b, err := json.Marshal(map[string]any{"triggerEvent": trigger, "createdAt": "2026-05-24T09:30:00.538Z", "payload": payload})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestVerify(t *testing.T) {
	body := []byte(`{"triggerEvent":"BOOKING_CREATED"}`)
	good := Sign(secret, body)
	for _, c := range []struct {
		name      string
		secret    string
		body      []byte
		signature string
		want      bool
	}{
		{"valid", secret, body, good, true},
		{"valid, upper-case hex", secret, body, strings.ToUpper(good), true},
		{"forged with another secret", secret, body, Sign("not-the-secret", body), false},
		{"body changed after signing", secret, []byte(`{"triggerEvent":"BOOKING_CANCELLED"}`), good, false},
		{"missing", secret, body, "", false},
		{"not hex", secret, body, "sha256=" + good, false},
		{"no secret configured", "", body, Sign("", body), false},
	} {
		if got := Verify(c.secret, c.body, c.signature); got != c.want {
			t.Errorf("%s: Verify = %t, want %t", c.name, got, c.want)
		}
	}
}

// recordingPublisher records what would be published.
type recordingPublisher struct {
	mu     sync.Mutex
	events []publishers.Event
}

func (p *recordingPublisher) Publish(_ context.Context, e publishers.Event) (publishers.PublishResult, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.events = append(p.events, e)
	return publishers.PublishResult{}, nil
}

func post(t *testing.T, h http.Handler, body []byte, signature string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, Path, bytes.NewReader(body))
	if signature != "" {
		req.Header.Set(SignatureHeader, signature)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestHandlerRefusesUnsignedAndForged(t *testing.T) {
	pub := &recordingPublisher{}
	h := NewHandler(Config{Secret: secret}, pub, nil)
	body := webhookBody(t, TriggerCreated, "bk1", "", time.Date(2030, 6, 1, 15, 0, 0, 0, time.UTC), nil)

	for name, sig := range map[string]string{
		"missing": "",
		"forged":  Sign("guess", body),
		"garbage": "zz",
	} {
		rec := post(t, h, body, sig)
		if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "bad_signature") {
			t.Errorf("%s signature: %d %s, want 403 bad_signature", name, rec.Code, rec.Body)
		}
	}
	if len(pub.events) != 0 {
		t.Fatalf("refused requests published %d events", len(pub.events))
	}

	rec := post(t, h, body, Sign(secret, body))
	if rec.Code != http.StatusOK {
		t.Fatalf("signed request: %d %s", rec.Code, rec.Body)
	}
	if len(pub.events) != 2 {
		t.Fatalf("signed booking published %d events, want 2", len(pub.events))
	}

	// Without a secret the route is off, and says how to turn it on.
	off := NewHandler(Config{}, pub, nil)
	rec = post(t, off, body, Sign("", body))
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "NUDGE_CALCOM_SECRET") {
		t.Errorf("unconfigured: %d %s, want 503 naming NUDGE_CALCOM_SECRET", rec.Code, rec.Body)
	}
	if len(pub.events) != 2 {
		t.Fatal("the unconfigured route published")
	}
}

func TestHandlerIgnoresOtherTriggersAndRejectsUnmappable(t *testing.T) {
	pub := &recordingPublisher{}
	h := NewHandler(Config{Secret: secret}, pub, nil)
	ping := []byte(`{"triggerEvent":"PING","createdAt":"2026-05-24T09:30:00Z","payload":{}}`)
	if rec := post(t, h, ping, Sign(secret, ping)); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "ignored") {
		t.Errorf("PING: %d %s", rec.Code, rec.Body)
	}
	noAttendee := webhookBody(t, TriggerCreated, "bk2", "", time.Date(2030, 6, 1, 15, 0, 0, 0, time.UTC), map[string]any{"attendees": []any{}})
	if rec := post(t, h, noAttendee, Sign(secret, noAttendee)); rec.Code != http.StatusBadRequest {
		t.Errorf("no attendee: %d %s, want 400", rec.Code, rec.Body)
	}
	notJSON := []byte("not json")
	if rec := post(t, h, notJSON, Sign(secret, notJSON)); rec.Code != http.StatusBadRequest {
		t.Errorf("not JSON: %d %s, want 400", rec.Code, rec.Body)
	}
	if len(pub.events) != 0 {
		t.Fatalf("published %d events", len(pub.events))
	}
}

func decode[T any](t *testing.T, ev publishers.Event) T {
	t.Helper()
	data, err := ev.DecodeData()
	if err != nil {
		t.Fatal(err)
	}
	d, ok := data.(T)
	if !ok {
		t.Fatalf("event %s carries %T", ev.Type, data)
	}
	return d
}

func TestMapPerTrigger(t *testing.T) {
	start := time.Date(2030, 6, 1, 15, 0, 0, 0, time.UTC)
	moved := start.Add(26 * time.Hour)
	m := Mapping{}

	created, ignored, err := m.Map(webhookBody(t, TriggerCreated, "bk1", "", start, nil))
	if err != nil || ignored {
		t.Fatalf("created: %v ignored=%t", err, ignored)
	}
	if len(created) != 2 || created[0].Type != publishers.TypeClientUpserted || created[1].Type != publishers.TypeSessionBooked {
		t.Fatalf("created: %+v", created)
	}
	client := decode[publishers.ClientUpserted](t, created[0])
	wantClient := publishers.ClientUpserted{
		ClientID: client.ClientID, FirstName: "Ana", Timezone: "America/Chicago", Phone: "+14155550123",
		Email: "Ana.Lopez@example.org", Locale: "es",
	}
	if client != wantClient || !strings.HasPrefix(client.ClientID, "calcom-") || len(client.ClientID) != len("calcom-")+20 {
		t.Errorf("client = %+v", client)
	}
	if strings.Contains(client.ClientID, "example") {
		t.Errorf("client id %q carries the email", client.ClientID)
	}
	booked := decode[publishers.SessionBooked](t, created[1])
	want := publishers.SessionBooked{SessionID: "calcom-root", ClientID: client.ClientID, StartsAt: start, DurationMin: 50,
		ClinicianDisplayName: "Dr Example", LocationKind: publishers.LocationTelehealth}
	if !booked.StartsAt.Equal(want.StartsAt) {
		t.Errorf("starts_at %v, want %v", booked.StartsAt, start)
	}
	booked.StartsAt = want.StartsAt
	if booked != want {
		t.Errorf("booked = %+v\nwant %+v", booked, want)
	}
	if !created[1].Time.Equal(time.Date(2026, 5, 24, 9, 30, 0, 538e6, time.UTC)) {
		t.Errorf("event time %v, want the webhook's createdAt", created[1].Time)
	}

	// Rescheduled twice: Cal.com makes a new booking uid each time and
	// keeps the first booking's iCalUID, so both moves name one session.
	for i, c := range []struct{ uid, from string }{{"bk1b", "bk1"}, {"bk1c", "bk1b"}} {
		evs, _, err := m.Map(webhookBody(t, TriggerRescheduled, c.uid, c.from, moved.Add(time.Duration(i)*time.Hour),
			map[string]any{"iCalUID": "root@Cal.com"}))
		if err != nil || len(evs) != 2 || evs[1].Type != publishers.TypeSessionRescheduled {
			t.Fatalf("rescheduled %d: %v %+v", i, err, evs)
		}
		r := decode[publishers.SessionRescheduled](t, evs[1])
		if r.SessionID != "calcom-root" || !r.StartsAt.Equal(moved.Add(time.Duration(i)*time.Hour)) {
			t.Errorf("rescheduled %d = %+v", i, r)
		}
	}
	// Without an iCalUID a reschedule names the booking it replaced.
	evs, _, err := m.Map(webhookBody(t, TriggerRescheduled, "bk9b", "bk9", moved, map[string]any{"iCalUID": nil}))
	if err != nil || decode[publishers.SessionRescheduled](t, evs[1]).SessionID != "calcom-bk9" {
		t.Errorf("rescheduled without iCalUID: %v %+v", err, evs)
	}

	cancelled, _, err := m.Map(webhookBody(t, TriggerCancelled, "bk1c", "", moved,
		map[string]any{"iCalUID": "root@Cal.com", "cancellationReason": "feeling better"}))
	if err != nil || len(cancelled) != 1 {
		t.Fatalf("cancelled: %v %+v", err, cancelled)
	}
	if c := decode[publishers.SessionCancelled](t, cancelled[0]); c != (publishers.SessionCancelled{SessionID: "calcom-root", Reason: "feeling better"}) {
		t.Errorf("cancelled = %+v", c)
	}
}

func TestMapClientIDFieldAndLocations(t *testing.T) {
	start := time.Date(2030, 6, 1, 15, 0, 0, 0, time.UTC)
	m := Mapping{ClientIDField: "clientId"}
	evs, _, err := m.Map(webhookBody(t, TriggerCreated, "bk1", "", start, map[string]any{"metadata": map[string]any{"clientId": "c_42"}}))
	if err != nil || decode[publishers.ClientUpserted](t, evs[0]).ClientID != "c_42" {
		t.Errorf("metadata client id: %v %+v", err, evs)
	}
	evs, _, err = m.Map(webhookBody(t, TriggerCreated, "bk1", "", start, map[string]any{
		"metadata":  map[string]any{},
		"responses": map[string]any{"clientId": map[string]any{"label": "Client number", "value": "c_43"}},
	}))
	if err != nil || decode[publishers.ClientUpserted](t, evs[0]).ClientID != "c_43" {
		t.Errorf("response client id: %v %+v", err, evs)
	}
	for loc, want := range map[string]string{
		"integrations:zoom":          publishers.LocationTelehealth,
		"https://meet.example.com/x": publishers.LocationTelehealth,
		"inPerson":                   publishers.LocationInPerson,
		"12 Harbour Road, Suite 3":   publishers.LocationInPerson,
		"phone":                      "",
		"":                           "",
	} {
		evs, _, err := Mapping{}.Map(webhookBody(t, TriggerCreated, "bk1", "", start, map[string]any{"location": loc, "metadata": map[string]any{}}))
		if err != nil {
			t.Fatal(err)
		}
		if got := decode[publishers.SessionBooked](t, evs[1]).LocationKind; got != want {
			t.Errorf("location %q: %q, want %q", loc, got, want)
		}
	}
}

// TestRepeatedDeliveryIsDuplicate publishes through real JetStream: Cal.com
// retrying a webhook it already delivered stores nothing new.
func TestRepeatedDeliveryIsDuplicate(t *testing.T) {
	js := bustest.JetStream(t)
	h := NewHandler(Config{Secret: secret}, publishers.NewPublisher(js), nil)
	start := time.Date(2030, 6, 1, 15, 0, 0, 0, time.UTC)
	bodies := [][]byte{
		webhookBody(t, TriggerCreated, "bk1", "", start, nil),
		webhookBody(t, TriggerRescheduled, "bk1b", "bk1", start.Add(time.Hour), map[string]any{"iCalUID": "root@Cal.com"}),
		webhookBody(t, TriggerCancelled, "bk1b", "", start.Add(time.Hour), map[string]any{"iCalUID": "root@Cal.com"}),
	}
	type response struct {
		Accepted []accepted `json:"accepted"`
	}
	for round := range 2 {
		for i, body := range bodies {
			rec := post(t, h, body, Sign(secret, body))
			if rec.Code != http.StatusOK {
				t.Fatalf("round %d webhook %d: %d %s", round, i, rec.Code, rec.Body)
			}
			var got response
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || len(got.Accepted) == 0 {
				t.Fatalf("round %d webhook %d: %s", round, i, rec.Body)
			}
			for _, a := range got.Accepted {
				if a.Duplicate != (round == 1) {
					t.Errorf("round %d webhook %d: %s %s duplicate=%t", round, i, a.Type, a.ID, a.Duplicate)
				}
			}
		}
	}
	st, err := js.Stream(t.Context(), bus.StreamEvents)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 5 {
		t.Errorf("stream holds %d events, want 5 (client+booked, client+rescheduled, cancelled)", info.State.Msgs)
	}
}
