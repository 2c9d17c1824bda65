package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
	buildDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// buildNudge compiles the nudge binary once per test binary run.
func buildNudge(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "nudge-bin-")
		if buildErr != nil {
			return
		}
		builtBin = filepath.Join(buildDir, "nudge")
		out, err := exec.Command("go", "build", "-o", builtBin, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("%v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatalf("building nudge: %v", buildErr)
	}
	return builtBin
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// devProcess is a running `nudge dev`.
type devProcess struct {
	cmd    *exec.Cmd
	addr   string
	token  string
	stdout *bytes.Buffer
}

func startDev(t *testing.T, bin, dataDir, addr string, flags ...string) *devProcess {
	t.Helper()
	var out bytes.Buffer
	cmd := exec.Command(bin, append([]string{"dev", "--data-dir", dataDir, "--http", addr}, flags...)...)
	cmd.Stdout = &out
	cmd.Stderr = &out
	cmd.Env = append(os.Environ(), "NUDGE_API_TOKEN=")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &devProcess{cmd: cmd, addr: addr, stdout: &out}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				tok, err := os.ReadFile(filepath.Join(dataDir, "api-token"))
				if err != nil {
					t.Fatalf("dev mode did not save its API token: %v", err)
				}
				p.token = strings.TrimSpace(string(tok))
				return p
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("nudge dev did not become ready; output:\n%s", out.String())
	return nil
}

// stop sends SIGINT and requires a clean exit within a few seconds.
func (p *devProcess) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("nudge dev exited with %v; output:\n%s", err, p.stdout.String())
		}
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		t.Fatalf("nudge dev did not stop within 10s of SIGINT; output:\n%s", p.stdout.String())
	}
}

func (p *devProcess) do(t *testing.T, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, "http://"+p.addr+path, r)
	req.Header.Set("Authorization", "Bearer "+p.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// get decodes GET path into out; false when the server is not answering
// (it may be restarting).
func (p *devProcess) get(path string, out any) bool {
	req, _ := http.NewRequest(http.MethodGet, "http://"+p.addr+path, nil)
	req.Header.Set("Authorization", "Bearer "+p.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	return resp.StatusCode == http.StatusOK && json.NewDecoder(resp.Body).Decode(out) == nil
}

// post sends an empty POST; true on a 2xx answer.
func (p *devProcess) post(path string) bool {
	req, _ := http.NewRequest(http.MethodPost, "http://"+p.addr+path, nil)
	req.Header.Set("Authorization", "Bearer "+p.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode/100 == 2
}

// eventually polls get until check passes: ingest is asynchronous.
func (p *devProcess) eventually(t *testing.T, path string, check func(map[string]any) bool) map[string]any {
	t.Helper()
	var last map[string]any
	var status int
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		status, last = p.do(t, http.MethodGet, path, nil)
		if status == http.StatusOK && check(last) {
			return last
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("GET %s never satisfied the check; last %d %v", path, status, last)
	return nil
}

func event(id, typ string, at time.Time, data map[string]any) map[string]any {
	return map[string]any{
		"specversion": "1.0", "id": id, "source": "e2e", "type": typ,
		"time": at.UTC().Format(time.RFC3339Nano), "datacontenttype": "application/json", "data": data,
	}
}

func TestDevEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	bin := buildNudge(t)
	dataDir := t.TempDir()
	addr := freeAddr(t)
	p := startDev(t, bin, dataDir, addr)

	if !strings.Contains(p.stdout.String(), p.token) {
		t.Errorf("startup banner does not show the API token; output:\n%s", p.stdout.String())
	}
	if !strings.Contains(p.stdout.String(), "publish") {
		t.Errorf("startup banner has no copy-pasteable first command; output:\n%s", p.stdout.String())
	}

	// No token: 401, nothing changes.
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/v1/events", strings.NewReader(`{}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("POST /v1/events without token = %d, want 401", resp.StatusCode)
	}

	base := time.Now().Add(-time.Hour)
	starts := time.Now().Add(72 * time.Hour).Truncate(time.Second)
	batch := []any{
		event("e2e-client-1", "client.upserted", base, map[string]any{
			"client_id": "c_1", "first_name": "Ada", "timezone": "America/New_York", "phone": "+14155550123", "email": "ada@example.com",
		}),
		event("e2e-consent-1", "consent.granted", base.Add(time.Second), map[string]any{
			"client_id": "c_1", "channel": "sms", "purpose": "reminders", "source": "intake-form", "wording_version": "v3",
		}),
		event("e2e-session-1", "session.booked", base.Add(2*time.Second), map[string]any{
			"session_id": "s_1", "client_id": "c_1", "starts_at": starts.Format(time.RFC3339), "duration_min": 50, "location_kind": "telehealth",
		}),
	}
	status, body := p.do(t, http.MethodPost, "/v1/events", batch)
	if status != http.StatusAccepted {
		t.Fatalf("POST /v1/events = %d %v", status, body)
	}
	if n := len(body["accepted"].([]any)); n != 3 {
		t.Fatalf("accepted %d events, want 3: %v", n, body)
	}

	// The same batch again: accepted, reported as duplicates, stored once.
	status, body = p.do(t, http.MethodPost, "/v1/events", batch)
	if status != http.StatusAccepted {
		t.Fatalf("repeated POST = %d %v", status, body)
	}
	for _, a := range body["accepted"].([]any) {
		if a.(map[string]any)["duplicate"] != true {
			t.Errorf("repeated event not reported as duplicate: %v", a)
		}
	}

	// An invalid event: 400 with field errors, and nothing of its batch stored.
	bad := []any{
		event("e2e-client-2", "client.upserted", base, map[string]any{"client_id": "c_2", "first_name": "Bo", "timezone": "America/New_York"}),
		event("e2e-bad-1", "client.upserted", base, map[string]any{"client_id": "c_3", "first_name": "Cy", "timezone": "Mars/Olympus", "phone": "555-1234"}),
	}
	status, body = p.do(t, http.MethodPost, "/v1/events", bad)
	if status != http.StatusBadRequest {
		t.Fatalf("POST with an invalid event = %d %v", status, body)
	}
	fields := fmt.Sprint(body["events"])
	for _, want := range []string{"data.timezone", "data.phone"} {
		if !strings.Contains(fields, want) {
			t.Errorf("400 body does not name %s: %v", want, body)
		}
	}

	// Through the CLI: one event, then a JSONL file with a bad line.
	cli := func(args ...string) (string, error) {
		cmd := exec.Command(bin, append(args, "--server", "http://"+addr, "--data-dir", dataDir)...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := cli("publish", "client.upserted", "--id", "e2e-cli-1", "--data", `{"client_id":"c_4","first_name":"Di","timezone":"Europe/London","email":"di@example.org"}`)
	if err != nil || !strings.Contains(out, "accepted") {
		t.Fatalf("nudge publish: %v\n%s", err, out)
	}
	jsonl := filepath.Join(t.TempDir(), "events.jsonl")
	var lines []string
	for i, ev := range []any{
		event("e2e-file-1", "client.upserted", base, map[string]any{"client_id": "c_5", "first_name": "Ed", "timezone": "Australia/Lord_Howe"}),
		event("e2e-file-2", "client.upserted", base, map[string]any{"client_id": "c_6", "first_name": "", "timezone": "UTC"}),
		event("e2e-client-1", "client.upserted", base, map[string]any{"client_id": "c_1", "first_name": "Ada", "timezone": "America/New_York"}),
		event("e2e-file-4", "session.cancelled", base.Add(3*time.Second), map[string]any{"session_id": "s_1", "reason": "client request"}),
	} {
		b, _ := json.Marshal(ev)
		lines = append(lines, string(b))
		if i == 1 {
			lines = append(lines, `{"this is": not json`)
		}
	}
	if err := os.WriteFile(jsonl, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err = cli("publish", "--file", jsonl)
	if err == nil {
		t.Errorf("nudge publish --file with bad lines exited 0:\n%s", out)
	}
	for _, want := range []string{"2 accepted, 1 duplicate, 2 rejected", "line 2:", "line 3:"} {
		if !strings.Contains(out, want) {
			t.Errorf("publish --file summary lacks %q:\n%s", want, out)
		}
	}

	// Read the state back.
	client := p.eventually(t, "/v1/clients/c_1", func(m map[string]any) bool {
		cs, _ := m["consents"].([]any)
		return len(cs) == 1
	})
	if client["first_name"] != "Ada" || client["timezone"] != "America/New_York" {
		t.Errorf("client c_1 = %v", client)
	}
	if c := client["consents"].([]any)[0].(map[string]any); c["active"] != true || c["purpose"] != "reminders" || c["channel"] != "sms" || c["address"] != "+14155550123" {
		t.Errorf("consent = %v", c)
	}
	p.eventually(t, "/v1/clients/c_4", func(m map[string]any) bool { return m["first_name"] == "Di" })
	p.eventually(t, "/v1/clients/c_5", func(m map[string]any) bool { return m["timezone"] == "Australia/Lord_Howe" })
	session := p.eventually(t, "/v1/sessions/s_1", func(m map[string]any) bool { return m["state"] == "cancelled" })
	if session["version"] != float64(1) {
		t.Errorf("session version = %v, want 1", session["version"])
	}
	if st, _ := p.do(t, http.MethodGet, "/v1/clients/c_2", nil); st != http.StatusNotFound {
		t.Errorf("client from a rejected batch: GET = %d, want 404", st)
	}
	if st, _ := p.do(t, http.MethodGet, "/v1/clients/c_3", nil); st != http.StatusNotFound {
		t.Errorf("invalid client: GET = %d, want 404", st)
	}
	if st, _ := p.do(t, http.MethodGet, "/v1/deliveries?client_id=c_1", nil); st != http.StatusOK {
		t.Errorf("GET /v1/deliveries = %d", st)
	}

	// An older client.upserted arriving late does not overwrite newer state.
	stale := event("e2e-client-old", "client.upserted", base.Add(-30*time.Minute), map[string]any{
		"client_id": "c_1", "first_name": "Old Name", "timezone": "Europe/London"})
	if status, body := p.do(t, http.MethodPost, "/v1/events", stale); status != http.StatusAccepted {
		t.Fatalf("posting a stale upsert: %d %v", status, body)
	}
	p.eventually(t, "/v1/events/e2e-client-old", func(m map[string]any) bool { return m["reason"] == "stale" })
	if _, client = p.do(t, http.MethodGet, "/v1/clients/c_1", nil); client["first_name"] != "Ada" {
		t.Errorf("a stale upsert overwrote the client: %v", client)
	}

	// Restart on the same data dir: everything is still there.
	p.stop(t)
	p = startDev(t, bin, dataDir, addr)
	status, client = p.do(t, http.MethodGet, "/v1/clients/c_1", nil)
	if status != http.StatusOK || client["first_name"] != "Ada" {
		t.Fatalf("after restart GET /v1/clients/c_1 = %d %v", status, client)
	}
	status, session = p.do(t, http.MethodGet, "/v1/sessions/s_1", nil)
	if status != http.StatusOK || session["state"] != "cancelled" {
		t.Fatalf("after restart GET /v1/sessions/s_1 = %d %v", status, session)
	}
	// The JetStream duplicate window survived the restart too.
	status, body = p.do(t, http.MethodPost, "/v1/events", batch[:1])
	if status != http.StatusAccepted || body["accepted"].([]any)[0].(map[string]any)["duplicate"] != true {
		t.Errorf("after restart, a repeated event = %d %v, want a duplicate", status, body)
	}
	p.stop(t)
}

func toJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
