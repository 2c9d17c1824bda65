package fakeprovider_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sendgrid/rest"
	"github.com/sendgrid/sendgrid-go"
	"github.com/sendgrid/sendgrid-go/helpers/eventwebhook"
	"github.com/sendgrid/sendgrid-go/helpers/mail"

	"github.com/nudgehq/nudge/internal/fakeprovider"
)

func startSendGrid(t *testing.T, cfg fakeprovider.SendGridConfig) (*fakeprovider.SendGrid, *httptest.Server) {
	t.Helper()
	fake := fakeprovider.NewSendGrid(cfg)
	srv := httptest.NewServer(fake)
	t.Cleanup(func() { fake.Close(); srv.Close() })
	return fake, srv
}

func newMail(to, deliveryID string) *mail.SGMailV3 {
	m := mail.NewV3Mail()
	m.SetFrom(mail.NewEmail("Harbor Therapy", "care@harbor.example"))
	m.Subject = "Your session on Tuesday"
	p := mail.NewPersonalization()
	p.AddTos(mail.NewEmail("", to))
	m.AddPersonalizations(p)
	m.AddContent(mail.NewContent("text/plain", "Hi Sam, see you Tuesday."), mail.NewContent("text/html", "<p>Hi Sam, see you Tuesday.</p>"))
	m.SetCustomArg("delivery_id", deliveryID)
	return m
}

// sgSend posts body to the fake's mail send endpoint with sendgrid-go.
func sgSend(t *testing.T, srv *httptest.Server, key string, body []byte) *rest.Response {
	t.Helper()
	req := sendgrid.GetRequest(key, "/v3/mail/send", srv.URL)
	req.Method = rest.Post
	req.Body = body
	resp, err := (&rest.Client{HTTPClient: &http.Client{Timeout: 5 * time.Second}}).SendWithContext(context.Background(), req)
	if err != nil {
		t.Fatalf("mail send: %v", err)
	}
	return resp
}

var xMessageID = regexp.MustCompile(`^[A-Za-z0-9_-]{22}$`)

func TestSendGridMailSend(t *testing.T) {
	fake, srv := startSendGrid(t, fakeprovider.SendGridConfig{})
	resp := sgSend(t, srv, fake.APIKey(), mail.GetRequestBody(newMail("sam@example.com", "del-1")))
	if resp.StatusCode != 202 || resp.Body != "" {
		t.Fatalf("got %d %q, want 202 with an empty body", resp.StatusCode, resp.Body)
	}
	id := resp.Headers["X-Message-Id"]
	if len(id) != 1 || !xMessageID.MatchString(id[0]) {
		t.Fatalf("X-Message-Id = %v", id)
	}
	msgs := fake.Messages()
	if len(msgs) != 1 {
		t.Fatalf("captured %d messages", len(msgs))
	}
	m := msgs[0]
	if m.Channel != "email" || m.ID != id[0] || m.To != "sam@example.com" || m.From != "care@harbor.example" ||
		m.Subject != "Your session on Tuesday" || m.Text != "Hi Sam, see you Tuesday." ||
		m.HTML != "<p>Hi Sam, see you Tuesday.</p>" || len(m.CustomArgs) != 1 || m.CustomArgs["delivery_id"] != "del-1" ||
		!strings.HasPrefix(m.EventMessageID, id[0]+".") {
		t.Fatalf("captured %+v", m)
	}
}

func TestSendGridAuthentication(t *testing.T) {
	fake, srv := startSendGrid(t, fakeprovider.SendGridConfig{})
	resp := sgSend(t, srv, "SG.wrong.key", mail.GetRequestBody(newMail("sam@example.com", "del-1")))
	want := `{"errors":[{"message":"The provided authorization grant is invalid, expired, or revoked","field":null,"help":null}]}`
	if resp.StatusCode != 401 || strings.TrimSpace(resp.Body) != want {
		t.Fatalf("got %d %s, want 401 %s", resp.StatusCode, resp.Body, want)
	}
	old := fake.APIKey()
	fake.SetAPIKeys("SG.new.key")
	if resp := sgSend(t, srv, old, mail.GetRequestBody(newMail("sam@example.com", "del-1"))); resp.StatusCode != 401 {
		t.Fatalf("revoked key: %d", resp.StatusCode)
	}
	if resp := sgSend(t, srv, "SG.new.key", mail.GetRequestBody(newMail("sam@example.com", "del-1"))); resp.StatusCode != 202 {
		t.Fatalf("new key: %d %s", resp.StatusCode, resp.Body)
	}
}

type sgErrors struct {
	Errors []struct {
		Message string  `json:"message"`
		Field   *string `json:"field"`
		Help    *string `json:"help"`
	} `json:"errors"`
}

func TestSendGridValidation(t *testing.T) {
	fake, srv := startSendGrid(t, fakeprovider.SendGridConfig{})
	valid := `{"personalizations":[{"to":[{"email":"sam@example.com"}]}],"from":{"email":"care@harbor.example"},"subject":"Hi","content":[{"type":"text/plain","value":"x"}]}`
	manyTos := make([]string, 1001)
	for i := range manyTos {
		manyTos[i] = fmt.Sprintf(`{"to":[{"email":"a%d@example.com"}]}`, i)
	}
	for _, tc := range []struct {
		name, body, field string
	}{
		{"valid", valid, ""},
		{"not JSON", `{`, ""},
		{"no personalizations", `{"from":{"email":"care@harbor.example"},"subject":"Hi","content":[{"type":"text/plain","value":"x"}]}`, "personalizations"},
		{"too many personalizations", `{"personalizations":[` + strings.Join(manyTos, ",") + `],"from":{"email":"care@harbor.example"},"subject":"Hi","content":[{"type":"text/plain","value":"x"}]}`, "personalizations"},
		{"no to", strings.Replace(valid, `"to":[{"email":"sam@example.com"}]`, `"to":[]`, 1), "personalizations.0.to"},
		{"bad to", strings.Replace(valid, "sam@example.com", "not-an-email", 1), "personalizations.0.to.0.email"},
		{"no from", strings.Replace(valid, `"from":{"email":"care@harbor.example"},`, "", 1), "from.email"},
		{"no subject", strings.Replace(valid, `"subject":"Hi",`, "", 1), "subject"},
		{"no content", strings.Replace(valid, `,"content":[{"type":"text/plain","value":"x"}]`, "", 1), "content"},
		{"html before text", strings.Replace(valid, `[{"type":"text/plain","value":"x"}]`, `[{"type":"text/html","value":"<p>x</p>"},{"type":"text/plain","value":"x"}]`, 1), "content.1.type"},
		{"numeric custom arg", strings.Replace(valid, `"subject":"Hi"`, `"subject":"Hi","custom_args":{"n":1}`, 1), "custom_args.n"},
		{"duplicate recipient", strings.Replace(valid, `"to":[{"email":"sam@example.com"}]`, `"to":[{"email":"sam@example.com"}],"cc":[{"email":"SAM@example.com"}]`, 1), "personalizations.0.cc"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := sgSend(t, srv, fake.APIKey(), []byte(tc.body))
			if tc.name == "valid" {
				if resp.StatusCode != 202 {
					t.Fatalf("got %d %s", resp.StatusCode, resp.Body)
				}
				return
			}
			var e sgErrors
			if resp.StatusCode != 400 || json.Unmarshal([]byte(resp.Body), &e) != nil || len(e.Errors) == 0 {
				t.Fatalf("got %d %s, want 400 with errors", resp.StatusCode, resp.Body)
			}
			if tc.field != "" && (e.Errors[0].Field == nil || *e.Errors[0].Field != tc.field) {
				t.Fatalf("errors %s, want field %q", resp.Body, tc.field)
			}
		})
	}
	if n := len(fake.Messages()); n != 1 {
		t.Fatalf("captured %d messages, want only the valid one", n)
	}
}

func TestSendGridFailureInjection(t *testing.T) {
	fake, srv := startSendGrid(t, fakeprovider.SendGridConfig{})
	body := mail.GetRequestBody(newMail("sam@example.com", "del-1"))

	fake.FailNext(1, fakeprovider.RateLimited(3*time.Second))
	resp := sgSend(t, srv, fake.APIKey(), body)
	reset, err := strconv.ParseInt(first(resp.Headers["X-Ratelimit-Reset"]), 10, 64)
	if resp.StatusCode != 429 || err != nil || time.Until(time.Unix(reset, 0)) < 2*time.Second {
		t.Fatalf("429: %d reset %v (%v) body %s", resp.StatusCode, resp.Headers["X-Ratelimit-Reset"], err, resp.Body)
	}

	fake.FailNext(1, fakeprovider.ServerError(500))
	if resp := sgSend(t, srv, fake.APIKey(), body); resp.StatusCode != 500 || !strings.Contains(resp.Body, `"errors"`) {
		t.Fatalf("500: %d %s", resp.StatusCode, resp.Body)
	}

	fake.FailTo("SAM@example.com", fakeprovider.SendGridError(400, "blocked for the test"))
	if resp := sgSend(t, srv, fake.APIKey(), body); resp.StatusCode != 400 || !strings.Contains(resp.Body, "blocked for the test") {
		t.Fatalf("FailTo: %d %s", resp.StatusCode, resp.Body)
	}
	fake.ClearFailures()

	fake.SetRateLimit(1)
	sgSend(t, srv, fake.APIKey(), body)
	if resp := sgSend(t, srv, fake.APIKey(), body); resp.StatusCode != 429 || first(resp.Headers["X-Ratelimit-Reset"]) == "" {
		t.Fatalf("rate limit: %d %v", resp.StatusCode, resp.Headers)
	}
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

func TestSendGridEventWebhookIsSigned(t *testing.T) {
	sink := &webhookSink{}
	hooks := httptest.NewServer(sink)
	defer hooks.Close()
	fake, srv := startSendGrid(t, fakeprovider.SendGridConfig{EventWebhookURL: hooks.URL + "/sendgrid/events"})
	if err := fake.SetOutcome("bounce@example.com", "bounce"); err != nil {
		t.Fatal(err)
	}
	sgSend(t, srv, fake.APIKey(), mail.GetRequestBody(newMail("sam@example.com", "del-1")))
	sgSend(t, srv, fake.APIKey(), mail.GetRequestBody(newMail("bounce@example.com", "del-2")))
	wait(t, fake)

	key, err := eventwebhook.ConvertPublicKeyBase64ToECDSA(fake.PublicKey())
	if err != nil {
		t.Fatalf("public key: %v", err)
	}
	events := map[string][]string{}
	for _, r := range sink.all() {
		sig := r.header.Get(eventwebhook.VerificationHTTPHeader)
		ts := r.header.Get(eventwebhook.TimestampHTTPHeader)
		ok, err := eventwebhook.VerifySignature(key, r.body, sig, ts)
		if err != nil || !ok {
			t.Fatalf("signature does not verify with sendgrid-go: ok=%v err=%v", ok, err)
		}
		if ok, _ := eventwebhook.VerifySignature(key, append([]byte(" "), r.body...), sig, ts); ok {
			t.Fatal("tampered body verified")
		}
		var batch []map[string]any
		if err := json.Unmarshal(r.body, &batch); err != nil {
			t.Fatal(err)
		}
		for _, ev := range batch {
			id, _ := ev["delivery_id"].(string) // custom args echo at the top level
			if ev["sg_message_id"] == "" || ev["timestamp"] == nil || ev["email"] == "" {
				t.Fatalf("incomplete event %v", ev)
			}
			events[id] = append(events[id], ev["event"].(string))
		}
	}
	if got := strings.Join(events["del-1"], ","); got != "processed,delivered" {
		t.Fatalf("del-1 events: %s", got)
	}
	if got := strings.Join(events["del-2"], ","); got != "processed,bounce" {
		t.Fatalf("del-2 events: %s", got)
	}
}

func TestSendGridEventQuirks(t *testing.T) {
	sink := &webhookSink{}
	hooks := httptest.NewServer(sink)
	defer hooks.Close()
	fake, srv := startSendGrid(t, fakeprovider.SendGridConfig{
		EventWebhookURL: hooks.URL, DuplicateEvents: true, OutOfOrderEvents: true,
	})
	sgSend(t, srv, fake.APIKey(), mail.GetRequestBody(newMail("sam@example.com", "del-1")))
	wait(t, fake)
	var order []string
	for _, r := range sink.all() {
		var batch []map[string]any
		_ = json.Unmarshal(r.body, &batch)
		order = append(order, batch[0]["event"].(string))
	}
	if got := strings.Join(order, ","); got != "delivered,delivered,processed,processed" {
		t.Fatalf("event order %s", got)
	}
}

func activity(t *testing.T, srv *httptest.Server, key, query string) []map[string]any {
	t.Helper()
	req := sendgrid.GetRequest(key, "/v3/messages", srv.URL)
	req.Method = rest.Get
	req.QueryParams = map[string]string{"query": query, "limit": "10"}
	resp, err := (&rest.Client{HTTPClient: http.DefaultClient}).SendWithContext(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("activity %q: %d %s", query, resp.StatusCode, resp.Body)
	}
	var out struct{ Messages []map[string]any }
	if err := json.Unmarshal([]byte(resp.Body), &out); err != nil {
		t.Fatal(err)
	}
	return out.Messages
}

func TestSendGridActivity(t *testing.T) {
	fake, srv := startSendGrid(t, fakeprovider.SendGridConfig{})
	resp := sgSend(t, srv, fake.APIKey(), mail.GetRequestBody(newMail("sam@example.com", "del-1")))
	sgSend(t, srv, fake.APIKey(), mail.GetRequestBody(newMail("alex@example.com", "del-2")))
	wait(t, fake)

	got := activity(t, srv, fake.APIKey(), `unique_args['delivery_id']="del-1"`)
	if len(got) != 1 || got[0]["to_email"] != "sam@example.com" || got[0]["status"] != "delivered" ||
		!strings.HasPrefix(got[0]["msg_id"].(string), resp.Headers["X-Message-Id"][0]+".") {
		t.Fatalf("by delivery_id: %v", got)
	}
	if got := activity(t, srv, fake.APIKey(), `unique_args['delivery_id']="del-404"`); len(got) != 0 {
		t.Fatalf("unknown delivery_id: %v", got)
	}
	from := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
	to := time.Now().Add(time.Minute).UTC().Format(time.RFC3339)
	q := fmt.Sprintf(`(to_email="alex@example.com" AND last_event_time BETWEEN TIMESTAMP "%s" AND TIMESTAMP "%s")`, from, to)
	if got := activity(t, srv, fake.APIKey(), q); len(got) != 1 || got[0]["to_email"] != "alex@example.com" {
		t.Fatalf("%s: %v", q, got)
	}
	if got := activity(t, srv, fake.APIKey(), ""); len(got) != 2 || got[0]["to_email"] != "alex@example.com" {
		t.Fatalf("no query, newest first: %v", got)
	}

	req := sendgrid.GetRequest(fake.APIKey(), "/v3/messages", srv.URL)
	req.QueryParams = map[string]string{"query": `to_email="a" OR to_email="b"`}
	if resp, _ := rest.Send(req); resp.StatusCode != 400 {
		t.Fatalf("unsupported query: %d", resp.StatusCode)
	}
}

func TestSendGridActivityLag(t *testing.T) {
	fake, srv := startSendGrid(t, fakeprovider.SendGridConfig{ActivityLag: time.Hour})
	sgSend(t, srv, fake.APIKey(), mail.GetRequestBody(newMail("sam@example.com", "del-1")))
	wait(t, fake)
	if got := activity(t, srv, fake.APIKey(), `unique_args['delivery_id']="del-1"`); len(got) != 0 {
		t.Fatalf("visible before the activity lag: %v", got)
	}
}
