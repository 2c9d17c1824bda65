package fakeprovider

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// Outcomes a fake email can have, named after the SendGrid event that
// reports them.
var emailOutcomes = []string{"delivered", "bounce", "dropped", "spamreport", "unsubscribe"}

// SetOutcome decides how emails to recipient end from now on; recipient ""
// sets the default. event is one of "delivered" (the default), "bounce",
// "dropped", "spamreport" or "unsubscribe"; the fake posts the events
// SendGrid would: processed+delivered, processed+bounce, dropped alone,
// processed+delivered+spamreport, processed+delivered+unsubscribe.
func (s *SendGrid) SetOutcome(recipient, event string) error {
	if event == "" {
		event = "delivered"
	}
	if !slices.Contains(emailOutcomes, event) {
		return fmt.Errorf("fakeprovider: unknown email outcome %q (want one of %v)", event, emailOutcomes)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.outcomes[normalizeRecipient(recipient)] = event
	return nil
}

func (s *SendGrid) outcomeFor(recipient string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o, ok := s.outcomes[normalizeRecipient(recipient)]; ok {
		return o
	}
	if o, ok := s.outcomes[""]; ok {
		return o
	}
	return "delivered"
}

// PublicKey returns the event webhook verification key as SendGrid's
// settings page shows it: base64 of the DER-encoded PKIX public key.
func (s *SendGrid) PublicKey() string {
	s.mu.Lock()
	key := s.cfg.SigningKey
	s.mu.Unlock()
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		panic("fakeprovider: encoding public key: " + err.Error())
	}
	return base64.StdEncoding.EncodeToString(der)
}

// SignEvents signs an event webhook body as SendGrid does: ECDSA P-256 over
// SHA-256 of the timestamp (Unix seconds, decimal) followed by the raw body.
// It returns the X-Twilio-Email-Event-Webhook-Signature (base64 of the
// ASN.1 DER signature) and -Timestamp header values. Tests can use it to
// forge correctly signed payloads.
func (s *SendGrid) SignEvents(body []byte, at time.Time) (signature, timestamp string) {
	s.mu.Lock()
	key := s.cfg.SigningKey
	s.mu.Unlock()
	timestamp = strconv.FormatInt(at.Unix(), 10)
	h := sha256.New()
	h.Write([]byte(timestamp))
	h.Write(body)
	sig, err := ecdsa.SignASN1(rand.Reader, key, h.Sum(nil))
	if err != nil {
		panic("fakeprovider: signing events: " + err.Error())
	}
	return base64.StdEncoding.EncodeToString(sig), timestamp
}

// deliver produces the events of one accepted request: a processed (or
// dropped) batch, then delivered or bounce, then spamreport/unsubscribe.
func (s *SendGrid) deliver(batch []*emailMessage) {
	s.mu.Lock()
	delay, outOfOrder := s.cfg.EventDelay, s.cfg.OutOfOrderEvents
	s.mu.Unlock()
	outcome := make([]string, len(batch))
	for i, m := range batch {
		outcome[i] = s.outcomeFor(m.To)
	}
	stages := []func(i int) string{
		func(i int) string {
			if outcome[i] == "dropped" {
				return "dropped"
			}
			return "processed"
		},
		func(i int) string {
			switch outcome[i] {
			case "dropped":
				return ""
			case "bounce":
				return "bounce"
			}
			return "delivered"
		},
		func(i int) string {
			if outcome[i] == "spamreport" || outcome[i] == "unsubscribe" {
				return outcome[i]
			}
			return ""
		},
	}
	var held [][]map[string]any
	for _, stage := range stages {
		if !s.sleep(delay) {
			return
		}
		var events []map[string]any
		for i, m := range batch {
			if name := stage(i); name != "" {
				events = append(events, s.record(m, name))
			}
		}
		if len(events) == 0 {
			continue
		}
		if outOfOrder {
			held = append(held, events)
			continue
		}
		s.postEvents(events)
	}
	for _, events := range slices.Backward(held) {
		s.postEvents(events)
	}
}

// record applies an event to m and returns the event's JSON object.
func (s *SendGrid) record(m *emailMessage, name string) map[string]any {
	now := time.Now()
	s.mu.Lock()
	m.Status, m.lastEvent = name, now
	if name == "processed" || name == "dropped" {
		m.processed = now
	}
	ev := map[string]any{}
	maps.Copy(ev, toAny(m.CustomArgs)) // custom args echo at the top level
	ev["email"] = m.To
	ev["timestamp"] = now.Unix()
	ev["event"] = name
	ev["smtp-id"] = "<" + m.ID + "@fake.sendgrid.net>"
	ev["sg_event_id"] = randomB64(16)
	ev["sg_message_id"] = m.EventMessageID
	switch len(m.categories) {
	case 0:
	case 1:
		ev["category"] = m.categories[0]
	default:
		ev["category"] = slices.Clone(m.categories)
	}
	s.mu.Unlock()
	switch name {
	case "delivered":
		ev["response"] = "250 2.0.0 OK"
		ev["tls"] = 1
	case "bounce":
		ev["type"] = "bounce"
		ev["status"] = "5.1.1"
		ev["reason"] = "550 5.1.1 The email account that you tried to reach does not exist."
		ev["bounce_classification"] = "Invalid Address"
	case "dropped":
		ev["status"] = "5.0.0"
		ev["reason"] = "Bounced Address"
	}
	return ev
}

func toAny(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// postEvents posts one signed event batch, twice with DuplicateEvents.
func (s *SendGrid) postEvents(events []map[string]any) {
	s.mu.Lock()
	url, dup := s.cfg.EventWebhookURL, s.cfg.DuplicateEvents
	s.mu.Unlock()
	if url == "" {
		return
	}
	body, err := json.Marshal(events)
	if err != nil {
		return
	}
	ctx, cancel := s.asyncContext()
	defer cancel()
	for range 1 + btoi(dup) {
		sig, ts := s.SignEvents(body, time.Now())
		h := http.Header{}
		h.Set("Content-Type", "application/json")
		h.Set("User-Agent", "SendGrid Event API")
		h.Set("X-Twilio-Email-Event-Webhook-Signature", sig)
		h.Set("X-Twilio-Email-Event-Webhook-Timestamp", ts)
		s.post(ctx, "event", url, h, body)
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
