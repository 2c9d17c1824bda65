package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	ce "github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	"github.com/nudgehq/nudge/internal/httpapi"
	"github.com/nudgehq/nudge/internal/store/sqlite"
	"github.com/nudgehq/nudge/publishers"
)

// capture keeps every event it is asked to publish.
type capture struct {
	mu     sync.Mutex
	events []publishers.Event
}

func (c *capture) Publish(_ context.Context, e publishers.Event) (publishers.PublishResult, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.events = append(c.events, e)
	return publishers.PublishResult{Sequence: uint64(len(c.events))}, nil
}

func (c *capture) take() []publishers.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.events
	c.events = nil
	return out
}

func sdkEvent(t *testing.T, id string, data map[string]any, at time.Time) ce.Event {
	t.Helper()
	ev := cloudevents.NewEvent()
	ev.SetID(id)
	ev.SetSource("/sdk-producer")
	ev.SetType(publishers.TypeClientUpserted)
	ev.SetTime(at)
	ev.SetExtension("traceparent", "00-abc-def-01")
	if err := ev.SetData(cloudevents.ApplicationJSON, data); err != nil {
		t.Fatal(err)
	}
	return ev
}

var (
	goodData = map[string]any{"client_id": "c1", "first_name": "Ann", "timezone": "Europe/Paris", "phone": "+14155550123"}
	badData  = map[string]any{"client_id": "c1", "first_name": "Ann", "timezone": "Europe/Paris", "phone": "555-1234"}
)

// TestCloudEventsSDKModes: the official CloudEvents Go SDK, used as a
// producer would, in binary mode (its default), structured mode and
// batched mode; each mode is accepted with the same validation and the
// same per-field errors.
func TestCloudEventsSDKModes(t *testing.T) {
	st, err := sqlite.Open(t.Context(), t.TempDir()+"/nudge.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	pub := &capture{}
	srv := httptest.NewServer(httpapi.New(httpapi.Config{Store: st, Publisher: pub, APIToken: "secret"}))
	t.Cleanup(srv.Close)
	target := srv.URL + "/v1/events"

	client, err := cloudevents.NewClientHTTP(cehttp.WithHeader("Authorization", "Bearer secret"))
	if err != nil {
		t.Fatal(err)
	}
	send := func(ctx context.Context, ev ce.Event) (int, string) {
		t.Helper()
		res := client.Send(cloudevents.ContextWithTarget(ctx, target), ev)
		var hr *cehttp.Result
		if !cloudevents.ResultAs(res, &hr) {
			t.Fatalf("Send: %v", res)
		}
		return hr.StatusCode, res.Error()
	}
	now := time.Now().Add(-time.Minute).UTC().Truncate(time.Second)

	for _, mode := range []struct {
		name string
		ctx  context.Context
	}{{"binary", t.Context()}, {"structured", cloudevents.WithEncodingStructured(t.Context())}} {
		status, msg := send(mode.ctx, sdkEvent(t, mode.name+"-1", goodData, now))
		if status != http.StatusAccepted {
			t.Fatalf("%s: %d %s", mode.name, status, msg)
		}
		got := pub.take()
		if len(got) != 1 || got[0].ID != mode.name+"-1" || got[0].Source != "/sdk-producer" || got[0].Type != publishers.TypeClientUpserted ||
			!got[0].Time.Equal(now) || string(got[0].Extensions["traceparent"]) != `"00-abc-def-01"` {
			t.Fatalf("%s: published %+v", mode.name, got)
		}
		var data map[string]any
		if err := json.Unmarshal(got[0].Data, &data); err != nil || data["phone"] != "+14155550123" {
			t.Errorf("%s: data %s", mode.name, got[0].Data)
		}

		status, msg = send(mode.ctx, sdkEvent(t, mode.name+"-2", badData, now))
		if status != http.StatusBadRequest || !strings.Contains(msg, "data.phone") {
			t.Errorf("%s, bad phone: %d %s; want 400 naming data.phone", mode.name, status, msg)
		}
		status, msg = send(mode.ctx, sdkEvent(t, mode.name+"-3", goodData, time.Now().Add(time.Hour)))
		if status != http.StatusBadRequest || !strings.Contains(msg, `"time"`) {
			t.Errorf("%s, future time: %d %s; want 400 naming time", mode.name, status, msg)
		}
		if got := pub.take(); len(got) != 0 {
			t.Errorf("%s: invalid events published: %+v", mode.name, got)
		}
	}

	// Batched mode.
	post := func(events ...ce.Event) (int, map[string]any) {
		t.Helper()
		req, err := cehttp.NewHTTPRequestFromEvents(t.Context(), target, events)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer secret")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var out map[string]any
		_ = json.Unmarshal(b, &out)
		return resp.StatusCode, out
	}
	status, body := post(sdkEvent(t, "batch-1", goodData, now), sdkEvent(t, "batch-2", goodData, now))
	if status != http.StatusAccepted || len(body["accepted"].([]any)) != 2 {
		t.Fatalf("batched: %d %v", status, body)
	}
	if got := pub.take(); len(got) != 2 || got[1].ID != "batch-2" {
		t.Fatalf("batched: published %+v", got)
	}
	status, body = post(sdkEvent(t, "batch-3", goodData, now), sdkEvent(t, "batch-4", badData, now))
	if status != http.StatusBadRequest {
		t.Fatalf("batched, one bad: %d %v", status, body)
	}
	rejected := body["events"].([]any)[0].(map[string]any)
	if rejected["index"] != float64(1) || rejected["errors"].([]any)[0].(map[string]any)["field"] != "data.phone" {
		t.Errorf("batched, one bad: %v", body)
	}
	if got := pub.take(); len(got) != 0 {
		t.Errorf("batched: a batch with a bad event published %+v", got)
	}
}

// Binary mode without the SDK: the edges the SDK never sends.
func TestBinaryModeProblems(t *testing.T) {
	srv, _, rec := newAPI(t)
	do := func(h map[string]string, body string) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/events", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer secret")
		for k, v := range h {
			req.Header.Set(k, v)
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
	fields := func(body map[string]any) map[string]bool {
		out := map[string]bool{}
		evs, _ := body["events"].([]any)
		for _, e := range evs {
			for _, f := range e.(map[string]any)["errors"].([]any) {
				out[f.(map[string]any)["field"].(string)] = true
			}
		}
		return out
	}
	status, body := do(map[string]string{"ce-specversion": "1.0", "ce-id": "x1", "ce-type": "client.upserted", "Content-Type": "text/plain"}, "hello")
	if f := fields(body); status != http.StatusBadRequest || !f["source"] || !f["time"] || !f["datacontenttype"] {
		t.Errorf("missing attributes and a text body: %d %v", status, body)
	}
	status, body = do(map[string]string{"Content-Type": publishers.ContentTypeCloudEventsBatch}, `{"specversion":"1.0"}`)
	if status != http.StatusBadRequest || body["error"].(map[string]any)["code"] != "invalid_batch" {
		t.Errorf("batched mode with an object: %d %v", status, body)
	}
	if len(rec.ids) != 0 {
		t.Errorf("published %v", rec.ids)
	}
}
