package httpapi_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/nudgehq/nudge/internal/httpapi"
	"github.com/nudgehq/nudge/internal/metrics"
	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/publishers"
)

// auditOnly is the part of the store event intake touches.
type auditOnly struct{ store.Store }

func (auditOnly) AppendAudit(context.Context, store.AuditEntry) error { return nil }

// publisher treats id "dup-…" as already stored and id "down-…" as a bus
// outage.
type publisher struct{}

func (publisher) Publish(_ context.Context, e publishers.Event) (publishers.PublishResult, error) {
	switch {
	case strings.HasPrefix(e.ID, "down-"):
		return publishers.PublishResult{}, errors.New("nats: no responders")
	case strings.HasPrefix(e.ID, "dup-"):
		return publishers.PublishResult{Duplicate: true}, nil
	}
	return publishers.PublishResult{}, nil
}

func event(id, typ string) string {
	return `{"specversion":"1.0","id":"` + id + `","source":"test","type":"` + typ + `",` +
		`"time":"2026-01-15T10:00:00Z","datacontenttype":"application/json","data":{"client_id":"c1","first_name":"Ann","timezone":"Europe/Paris","phone":"+14155550123"}}`
}

func TestMetricsEndpoint(t *testing.T) {
	m := metrics.New(metrics.Config{})
	srv := httptest.NewServer(httpapi.New(httpapi.Config{
		Store:     auditOnly{},
		Publisher: publisher{},
		APIToken:  "secret",
		Events:    m.Event,
		Metrics:   m.Handler(),
	}))
	defer srv.Close()

	post := func(body string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/events", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer secret")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := post("[" + event("e1", "client.upserted") + "," + event("dup-e2", "client.upserted") + "]"); got != http.StatusAccepted {
		t.Fatalf("valid batch: %d, want 202", got)
	}
	if got := post("[" + event("e3", "client.upserted") + "," + event("e4", "client.exploded") + "]"); got != http.StatusBadRequest {
		t.Fatalf("invalid batch: %d, want 400", got)
	}
	if got := post(event("down-e5", "client.upserted")); got != http.StatusServiceUnavailable {
		t.Fatalf("bus down: %d, want 503", got)
	}

	// Prometheus scrapes without the API token.
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type = %q, want the text exposition format", ct)
	}
	for _, want := range []string{
		`nudge_events_total{result="accepted",type="client.upserted"} 1`,
		`nudge_events_total{result="duplicate",type="client.upserted"} 1`,
		`nudge_events_total{result="rejected",type="client.upserted"} 1`,
		`nudge_events_total{result="rejected",type="other"} 1`,
		`nudge_events_total{result="unavailable",type="client.upserted"} 1`,
		"go_goroutines ",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	for _, leak := range []string{"4155550123", "c1", "e1"} {
		if strings.Contains(string(body), `"`+leak+`"`) {
			t.Errorf("/metrics carries %q as a label value", leak)
		}
	}
}

func TestMetricsEndpointOptional(t *testing.T) {
	srv := httptest.NewServer(httpapi.New(httpapi.Config{Store: auditOnly{}, Publisher: publisher{}, APIToken: "secret"}))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /metrics without Metrics configured: %d, want 404", resp.StatusCode)
	}
}
