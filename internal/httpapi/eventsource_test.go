package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/nudgehq/nudge/internal/httpapi"
	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/store/sqlite"
	"github.com/nudgehq/nudge/publishers"
)

func newAPI(t *testing.T) (*httptest.Server, store.Store, *recorder) {
	t.Helper()
	st, err := sqlite.Open(t.Context(), t.TempDir()+"/nudge.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	rec := &recorder{}
	srv := httptest.NewServer(httpapi.New(httpapi.Config{Store: st, Publisher: rec, APIToken: "secret"}))
	t.Cleanup(srv.Close)
	return srv, st, rec
}

func get(t *testing.T, srv *httptest.Server, path string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// A future time is refused at the HTTP intake with a 400 naming "time".
func TestIntakeRefusesFutureTime(t *testing.T) {
	srv, _, rec := newAPI(t)
	future := strings.Replace(event("e1", "client.upserted"), "2026-01-15T10:00:00Z", "2099-01-01T00:00:00Z", 1)
	status, body := post(t, srv, "Bearer secret", future)
	if status != http.StatusBadRequest {
		t.Fatalf("status %d, want 400: %v", status, body)
	}
	errs := body["events"].([]any)[0].(map[string]any)["errors"].([]any)
	if f := errs[0].(map[string]any); f["field"] != "time" {
		t.Errorf("errors %v, want one on time", errs)
	}
	if len(rec.ids) != 0 {
		t.Errorf("published %v", rec.ids)
	}
}

// GET /v1/events/{id}: the same id from two sources is two events; without
// ?source= the answer is a 409 naming both, with it the one asked for.
func TestGetEventBySource(t *testing.T) {
	srv, st, _ := newAPI(t)
	ctx := t.Context()
	for i, src := range []string{"/booking", "/journal"} {
		ref := store.EventRef{ID: "42", Type: "client.upserted", Source: src, Time: time.Date(2026, 1, 1, 0, i, 0, 0, time.UTC)}
		if _, err := st.ApplyClientUpsert(ctx, ref, store.Client{ID: "c" + src, FirstName: "A", Timezone: "UTC"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.RecordEvent(ctx, store.EventRef{ID: "7", Type: "journal.day_missed", Source: "/journal"}, "recorded_only"); err != nil {
		t.Fatal(err)
	}

	status, body := get(t, srv, "/v1/events/42")
	if status != http.StatusConflict || body["error"].(map[string]any)["code"] != "ambiguous_id" {
		t.Fatalf("ambiguous id: %d %v", status, body)
	}
	if s := body["sources"].([]any); len(s) != 2 || s[0] != "/booking" || s[1] != "/journal" {
		t.Errorf("sources %v", s)
	}
	status, body = get(t, srv, "/v1/events/42?source=/journal")
	if status != http.StatusOK || body["source"] != "/journal" || body["applied"] != true {
		t.Errorf("?source=/journal: %d %v", status, body)
	}
	if status, _ = get(t, srv, "/v1/events/42?source=/other"); status != http.StatusNotFound {
		t.Errorf("?source=/other: %d, want 404", status)
	}
	if status, body = get(t, srv, "/v1/events/7"); status != http.StatusOK || body["reason"] != "recorded_only" {
		t.Errorf("one source needs no ?source=: %d %v", status, body)
	}
	if status, _ = get(t, srv, "/v1/events/8"); status != http.StatusNotFound {
		t.Errorf("unknown id: %d, want 404", status)
	}
}

// failAfter accepts n events, then fails like a bus that went away.
type failAfter struct {
	recorder
	n int
}

func (f *failAfter) Publish(ctx context.Context, e publishers.Event) (publishers.PublishResult, error) {
	if len(f.ids) >= f.n {
		return publishers.PublishResult{}, errors.New("nats: timeout")
	}
	return f.recorder.Publish(ctx, e)
}

func newPartialIntake(t *testing.T, n int) *httptest.Server {
	t.Helper()
	st, err := sqlite.Open(t.Context(), t.TempDir()+"/nudge.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	srv := httptest.NewServer(httpapi.New(httpapi.Config{Store: st, Publisher: &failAfter{n: n}, APIToken: "secret"}))
	t.Cleanup(srv.Close)
	return srv
}
