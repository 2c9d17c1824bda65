package httpapi

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/nudgehq/nudge/internal/webhook"
)

// devPatterns are the routes `nudge dev` adds (cmd/nudge/dev.go).
var devPatterns = []string{"GET /v1/dev/outbox", "POST /v1/dev/inbound"}

func loadOpenAPI(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(OpenAPI)
	if err != nil {
		t.Fatalf("loading openapi.json: %v", err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi.json is %s, want 3.1.0", doc.OpenAPI)
	}
	if err := doc.Validate(t.Context()); err != nil {
		t.Fatalf("openapi.json is not a valid OpenAPI document: %v", err)
	}
	return doc
}

// TestOpenAPICoversRoutes fails when a route the server registers under
// /v1 is missing from openapi.json, or when the document describes a route
// the server does not have. The registered routes come from the router
// itself (Server.Routes), with the inbox and dev-mode routes the app mounts.
func TestOpenAPICoversRoutes(t *testing.T) {
	doc := loadOpenAPI(t)
	extra := map[string]http.Handler{}
	for _, p := range slices.Concat(webhook.InboxPatterns, devPatterns) {
		extra[p] = http.NotFoundHandler()
	}
	s := New(Config{APIToken: "t", Metrics: http.NotFoundHandler(), ExtraAuthed: extra})
	registered := map[string]bool{}
	for _, p := range s.Routes() {
		method, path, ok := strings.Cut(p, " ")
		if !ok || !strings.HasPrefix(path, "/v1/") {
			continue
		}
		registered[method+" "+path] = true
		item := doc.Paths.Value(path)
		if item == nil || item.GetOperation(method) == nil {
			t.Errorf("route %s is registered but not in openapi.json", p)
		}
	}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			if !registered[method+" "+path] {
				t.Errorf("openapi.json documents %s %s, which the server does not register", method, path)
			}
		}
	}
	if len(registered) < 30 {
		t.Errorf("only %d /v1 routes registered: the route list is not coming from the router", len(registered))
	}
}

// TestOpenAPIExamples checks every example request and response in the
// document against its schema (JSON Schema 2020-12, as OpenAPI 3.1 says).
func TestOpenAPIExamples(t *testing.T) {
	doc := loadOpenAPI(t)
	n := 0
	check := func(where string, mt *openapi3.MediaType) {
		if mt == nil || mt.Example == nil || mt.Schema == nil {
			return
		}
		n++
		if err := mt.Schema.Value.VisitJSON(mt.Example, openapi3.EnableJSONSchema2020()); err != nil {
			t.Errorf("%s: example does not match its schema: %v", where, err)
		}
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.RequestBody != nil {
				check(method+" "+path+" request", op.RequestBody.Value.Content.Get("application/json"))
			}
			for code, r := range op.Responses.Map() {
				check(method+" "+path+" "+code, r.Value.Content.Get("application/json"))
			}
		}
	}
	if n < 15 {
		t.Errorf("only %d examples checked", n)
	}
	// And a wrong example is caught: the check is not vacuous.
	preview := doc.Paths.Value("/v1/announcements/preview").Post.Responses.Value("200").Value.Content.Get("application/json")
	if err := preview.Schema.Value.VisitJSON(map[string]any{"recipients": "many"}, openapi3.EnableJSONSchema2020()); err == nil {
		t.Error("a preview without group_id and with a string count passed the schema")
	}
}

func TestOpenAPIServed(t *testing.T) {
	srv := httptest.NewServer(New(Config{APIToken: "t"}))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var doc map[string]any
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &doc) != nil || doc["openapi"] != "3.1.0" {
		t.Fatalf("GET /openapi.json = %d %.100s", resp.StatusCode, body)
	}
}
