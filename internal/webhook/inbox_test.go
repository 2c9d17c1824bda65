package webhook

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func (e *env) getJSON(path string, v any) int {
	e.t.Helper()
	w := e.serve(httptest.NewRequest(http.MethodGet, path, nil))
	if v != nil && w.Code == http.StatusOK {
		if err := json.Unmarshal(w.Body.Bytes(), v); err != nil {
			e.t.Fatalf("%s: %v: %s", path, err, w.Body)
		}
	}
	return w.Code
}

func TestInbox(t *testing.T) {
	e := anaWithReminders(t)
	e.text("SM1", anaPhone, "can we move friday to the afternoon?")
	e.text("SM2", anaPhone, "C")
	e.text("SM3", anaPhone, "I want to die")

	var list struct{ Messages []inboxView }
	if code := e.getJSON("/v1/inbox", &list); code != http.StatusOK {
		t.Fatalf("list: %d", code)
	}
	if len(list.Messages) != 2 || list.Messages[0].ID != "SM3" || list.Messages[1].ID != "SM1" {
		t.Fatalf("open inbox %+v, want SM3 then SM1", list.Messages)
	}
	if m := list.Messages[1]; m.Body != "can we move friday to the afternoon?" || m.From != anaPhone || m.ClientID != "c-ana" || m.Kind != "unknown" {
		t.Fatalf("inbox message %+v", m)
	}
	if code := e.getJSON("/v1/inbox?all=true&limit=10", &list); code != http.StatusOK || len(list.Messages) != 3 {
		t.Fatalf("all: %d %d", code, len(list.Messages))
	}
	for _, bad := range []string{"/v1/inbox?limit=0", "/v1/inbox?limit=9999", "/v1/inbox?all=maybe"} {
		if code := e.getJSON(bad, nil); code != http.StatusBadRequest {
			t.Errorf("%s: %d", bad, code)
		}
	}

	var one inboxView
	if code := e.getJSON("/v1/inbox/SM3", &one); code != http.StatusOK || one.Kind != "crisis" || !one.NeedsStaff {
		t.Fatalf("get: %d %+v", code, one)
	}
	if code := e.getJSON("/v1/inbox/SM404", nil); code != http.StatusNotFound {
		t.Fatalf("unknown: %d", code)
	}

	w := e.serve(httptest.NewRequest(http.MethodPost, "/v1/inbox/SM3/resolve", strings.NewReader(`{"staff":"alice"}`)))
	if w.Code != http.StatusOK {
		t.Fatalf("resolve: %d %s", w.Code, w.Body)
	}
	var resolved inboxView
	_ = json.Unmarshal(w.Body.Bytes(), &resolved)
	if !resolved.Handled || resolved.HandledBy != "staff:alice" || resolved.HandledAt == nil {
		t.Fatalf("resolved %+v", resolved)
	}
	if code := e.getJSON("/v1/inbox", &list); code != http.StatusOK || len(list.Messages) != 1 || list.Messages[0].ID != "SM1" {
		t.Fatalf("open inbox after resolving: %+v", list.Messages)
	}
	audit, err := e.store.ListAudit(t.Context(), 10)
	if err != nil || len(audit) != 1 || audit[0].Action != "inbox.resolved" || audit[0].Actor != "staff:alice" || audit[0].Target != "SM3" {
		t.Fatalf("audit %+v %v", audit, err)
	}

	w = e.serve(httptest.NewRequest(http.MethodPost, "/v1/inbox/SM1/resolve", nil))
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"handled_by": "api-token"`) {
		t.Fatalf("resolve without a name: %d %s", w.Code, w.Body)
	}
	for body, want := range map[string]int{`{"staff":`: 400, `{"staff":"a\u0007b"}`: 400} {
		w := e.serve(httptest.NewRequest(http.MethodPost, "/v1/inbox/SM2/resolve", strings.NewReader(body)))
		if w.Code != want {
			t.Errorf("resolve with %s: %d", body, w.Code)
		}
	}
	if w := e.serve(httptest.NewRequest(http.MethodPost, "/v1/inbox/SM404/resolve", nil)); w.Code != http.StatusNotFound {
		t.Fatalf("resolve unknown: %d", w.Code)
	}
}
