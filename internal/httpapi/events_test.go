package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/nudgehq/nudge/internal/httpapi"
	"github.com/nudgehq/nudge/internal/store/sqlite"
	"github.com/nudgehq/nudge/publishers"
)

// recorder publishes nothing; it remembers what it was asked to publish
// and reports a repeated id as a duplicate, like JetStream's window.
type recorder struct {
	mu  sync.Mutex
	ids []string
}

func (r *recorder) Publish(_ context.Context, e publishers.Event) (publishers.PublishResult, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, id := range r.ids {
		if id == e.ID {
			return publishers.PublishResult{Duplicate: true}, nil
		}
	}
	r.ids = append(r.ids, e.ID)
	return publishers.PublishResult{Sequence: uint64(len(r.ids))}, nil
}

func newIntake(t *testing.T, maxBody int64) (*httptest.Server, *recorder) {
	t.Helper()
	st, err := sqlite.Open(t.Context(), t.TempDir()+"/nudge.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	rec := &recorder{}
	srv := httptest.NewServer(httpapi.New(httpapi.Config{Store: st, Publisher: rec, APIToken: "secret", MaxBodyBytes: maxBody}))
	t.Cleanup(srv.Close)
	return srv, rec
}

func post(t *testing.T, srv *httptest.Server, auth, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/events", strings.NewReader(body))
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func TestIntakeAuth(t *testing.T) {
	srv, rec := newIntake(t, 0)
	for _, auth := range []string{"", "Bearer wrong", "secret", "Basic c2VjcmV0"} {
		status, body := post(t, srv, auth, event("e1", "client.upserted"))
		if status != http.StatusUnauthorized {
			t.Errorf("auth %q: status %d, want 401", auth, status)
		}
		if e, _ := body["error"].(map[string]any); e["code"] != "unauthorized" {
			t.Errorf("auth %q: body %v", auth, body)
		}
	}
	if len(rec.ids) != 0 {
		t.Fatalf("unauthenticated requests published %v", rec.ids)
	}
}

func TestIntakeAcceptsAndReportsDuplicates(t *testing.T) {
	srv, rec := newIntake(t, 0)
	status, body := post(t, srv, "Bearer secret", "["+event("e1", "client.upserted")+","+event("e2", "client.upserted")+"]")
	if status != http.StatusAccepted || len(body["accepted"].([]any)) != 2 {
		t.Fatalf("batch: %d %v", status, body)
	}
	status, body = post(t, srv, "Bearer secret", event("e1", "client.upserted"))
	if status != http.StatusAccepted || body["accepted"].([]any)[0].(map[string]any)["duplicate"] != true {
		t.Fatalf("repeat: %d %v", status, body)
	}
	if len(rec.ids) != 2 {
		t.Errorf("published %v, want e1 and e2 once", rec.ids)
	}
}

func TestIntakeRejectsInvalidBatchWhole(t *testing.T) {
	srv, rec := newIntake(t, 0)
	bad := strings.Replace(event("e3", "client.upserted"), `"timezone":"Europe/Paris"`, `"timezone":"Mars/Base"`, 1)
	bad = strings.Replace(bad, `"phone":"+14155550123"`, `"phone":"12"`, 1)
	status, body := post(t, srv, "Bearer secret", "["+event("e1", "client.upserted")+","+bad+"]")
	if status != http.StatusBadRequest {
		t.Fatalf("status %d, want 400: %v", status, body)
	}
	events := body["events"].([]any)
	if len(events) != 1 || events[0].(map[string]any)["index"] != float64(1) {
		t.Fatalf("per-event errors = %v", events)
	}
	fields := map[string]bool{}
	for _, f := range events[0].(map[string]any)["errors"].([]any) {
		fields[f.(map[string]any)["field"].(string)] = true
	}
	if !fields["data.timezone"] || !fields["data.phone"] {
		t.Errorf("field errors %v, want data.timezone and data.phone", fields)
	}
	if len(rec.ids) != 0 {
		t.Errorf("a rejected batch published %v", rec.ids)
	}

	for name, raw := range map[string]string{"malformed": `{"specversion":`, "empty array": `[]`, "not an object": `42`} {
		if status, _ := post(t, srv, "Bearer secret", raw); status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", name, status)
		}
	}
}

func TestIntakeBodyLimit(t *testing.T) {
	srv, rec := newIntake(t, 1024)
	big := "[" + strings.Repeat(event("e1", "client.upserted")+",", 10) + event("e2", "client.upserted") + "]"
	status, body := post(t, srv, "Bearer secret", big)
	if status != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413: %v", status, body)
	}
	if e, _ := body["error"].(map[string]any); e["code"] != "body_too_large" {
		t.Errorf("body %v", body)
	}
	if len(rec.ids) != 0 {
		t.Errorf("an oversized body published %v", rec.ids)
	}
}
