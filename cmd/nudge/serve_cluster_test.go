package main

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/nudgehq/nudge/internal/bus"
	"github.com/nudgehq/nudge/internal/bus/clustertest"
	"github.com/nudgehq/nudge/internal/store/postgres/pgtest"
)

// TestServeReplicasStartTogetherOnFreshCluster starts two `nudge serve`
// processes at the same moment as a 3-node NATS cluster (R3 streams) and on
// one empty Postgres schema, as a Deployment's replicas start beside a
// fresh cluster: both wait for JetStream, race to provision the same streams,
// consumers and bucket, race to migrate, and both come up. Then one event
// produces one message.
func TestServeReplicasStartTogetherOnFreshCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs nudge and nats-server; skipped with -short")
	}
	dbURL := pgtest.NewSchemaURL(t)
	bin := buildNudge(t)
	fake := startFakeProviderProc(t, bin, "")
	cluster := clustertest.Start(t, clustertest.Config{NoWait: true})
	env := append(fake.serveEnv(), "NUDGE_DATABASE_URL="+dbURL, "NUDGE_NATS_URL="+cluster.ClientURLs(), "NUDGE_REPLICAS=3")
	a, b := newServeProc(t, bin, env...), newServeProc(t, bin, env...)
	a.start(t)
	b.start(t)
	var wg sync.WaitGroup
	for _, s := range []*serveProc{a, b} {
		wg.Go(func() { s.waitReady(t, 150*time.Second) })
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	t.Logf("both replicas ready; one said:\n%s", a.all.String())

	nc, err := nats.Connect(cluster.ClientURLs())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	for _, name := range []string{bus.StreamEvents, bus.StreamNotify, bus.StreamOut, bus.StreamAdvisories} {
		st, err := js.Stream(t.Context(), name)
		if err != nil {
			t.Fatalf("stream %s: %v", name, err)
		}
		if r := st.CachedInfo().Config.Replicas; r != 3 {
			t.Errorf("stream %s has %d replicas, want 3", name, r)
		}
	}

	phone, now := "+14155550177", time.Now()
	events := []any{
		event("cl-client", "client.upserted", now.Add(-time.Minute), map[string]any{
			"client_id": "c_cl", "first_name": "Ada", "timezone": daytimeZone(), "phone": phone}),
		event("cl-consent", "consent.granted", now.Add(-time.Minute), map[string]any{
			"client_id": "c_cl", "channel": "sms", "purpose": "reminders", "source": "intake-form"}),
	}
	if status, body := b.client().do(t, http.MethodPost, "/v1/events", events); status != http.StatusAccepted {
		t.Fatalf("POST /v1/events = %d %v", status, body)
	}
	// The booking goes in once the consent is applied: two replicas ingest
	// in parallel, and a booking applied before its consent gets its
	// confirmation skipped as no_consent (see the README's known limit).
	waitFor(t, time.Now().Add(60*time.Second), "the consent applied", func() bool {
		var m map[string]any
		if !a.client().get("/v1/clients/c_cl", &m) {
			return false
		}
		cs, _ := m["consents"].([]any)
		return len(cs) > 0
	})
	booked := event("cl-session", "session.booked", now.Add(-time.Minute), map[string]any{
		"session_id": "s_cl", "client_id": "c_cl", "starts_at": now.Add(72 * time.Hour).Format(time.RFC3339), "location_kind": "in_person"})
	if status, body := b.client().do(t, http.MethodPost, "/v1/events", []any{booked}); status != http.StatusAccepted {
		t.Fatalf("POST /v1/events = %d %v", status, body)
	}
	count := func() int {
		n := 0
		for _, m := range fake.messages(t, "twilio") {
			if m.To == phone && strings.Contains(m.Body, "Ada") {
				n++
			}
		}
		return n
	}
	waitFor(t, time.Now().Add(60*time.Second), "the booking confirmation", func() bool { return count() > 0 })
	time.Sleep(2 * time.Second)
	if n := count(); n != 1 {
		t.Errorf("the booking confirmation reached the provider %d times, want once", n)
	}
}
