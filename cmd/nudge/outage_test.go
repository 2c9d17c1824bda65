package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats-server/v2/server"

	"github.com/nudgehq/nudge/internal/bus"
	"github.com/nudgehq/nudge/internal/store/postgres/pgtest"
)

// ownPostgres is a Postgres server of the test's own (initdb + pg_ctl on a
// free port), so the test can stop and start it; the machine's shared
// server is never touched.
type ownPostgres struct {
	bin, data, sock, log string
	port                 int
	cred                 *syscall.Credential // run as the postgres user when the test is root
	URL                  string
}

func startOwnPostgres(t *testing.T) *ownPostgres {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("initdb not found under /usr/lib/postgresql/*/bin: the outage test needs its own Postgres")
		}
		t.Skip("initdb not found under /usr/lib/postgresql/*/bin")
	}
	root, err := os.MkdirTemp("", "nudge-own-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	p := &ownPostgres{bin: filepath.Dir(bins[len(bins)-1]), data: filepath.Join(root, "data"), sock: root, log: filepath.Join(root, "log")}
	if os.Geteuid() == 0 { // initdb refuses root: run the server as postgres
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root, and no postgres user to run a test Postgres as: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		p.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chmod(root, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(root, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.port = ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	p.URL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", p.port)
	if out, err := p.run("initdb", "-D", p.data, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8"); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	t.Cleanup(func() { _, _ = p.run("pg_ctl", "-D", p.data, "stop", "-m", "immediate", "-w") })
	p.start(t)
	return p
}

func (p *ownPostgres) run(prog string, args ...string) ([]byte, error) {
	cmd := exec.Command(filepath.Join(p.bin, prog), args...)
	cmd.Dir = p.sock
	if p.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred}
	}
	return cmd.CombinedOutput()
}

func (p *ownPostgres) start(t *testing.T) {
	t.Helper()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off", p.port, p.sock)
	if out, err := p.run("pg_ctl", "-D", p.data, "-o", opts, "-l", p.log, "-w", "-t", "60", "start"); err != nil {
		b, _ := os.ReadFile(p.log)
		t.Fatalf("pg_ctl start: %v\n%s\n%s", err, out, b)
	}
}

func (p *ownPostgres) stop(t *testing.T) {
	t.Helper()
	if out, err := p.run("pg_ctl", "-D", p.data, "stop", "-m", "fast", "-w"); err != nil {
		t.Fatalf("pg_ctl stop: %v\n%s", err, out)
	}
}

// outageEnv is a serve on one embedded NATS node and the fake providers.
type outageEnv struct {
	fake     *fakeProviderProc
	serve    *serveProc
	ns       *server.Server
	natsAddr string
	natsDir  string
}

func newOutageEnv(t *testing.T, dbURL string) *outageEnv {
	t.Helper()
	e := &outageEnv{natsAddr: freeAddr(t), natsDir: t.TempDir()}
	e.startNATS(t)
	t.Cleanup(func() {
		if e.ns != nil {
			e.ns.Shutdown()
		}
	})
	bin := buildNudge(t)
	e.fake = startFakeProviderProc(t, bin, "")
	e.serve = newServeProc(t, bin, append(e.fake.serveEnv(),
		"NUDGE_DATABASE_URL="+dbURL, "NUDGE_NATS_URL=nats://"+e.natsAddr, "NUDGE_REPLICAS=1",
		"NUDGE_QUIET_HOURS=00:00-24:00", "NUDGE_SMS_RATE=100")...)
	e.serve.start(t)
	e.serve.waitReady(t, 90*time.Second)
	return e
}

func (e *outageEnv) startNATS(t *testing.T) {
	t.Helper()
	ns, err := bus.StartEmbedded(bus.EmbeddedConfig{StoreDir: e.natsDir, ListenAddr: e.natsAddr, SyncAlways: true})
	if err != nil {
		t.Fatal(err)
	}
	e.ns = ns
}

func (e *outageEnv) stopNATS() {
	e.ns.Shutdown()
	e.ns.WaitForShutdown()
	e.ns = nil
}

// post sends client i's three events once and returns the status, the
// Retry-After header and the decoded body.
func (e *outageEnv) post(t *testing.T, i int) (int, string, map[string]any) {
	t.Helper()
	body, _ := json.Marshal(faultClientEvents(i, 48*time.Hour))
	req, _ := http.NewRequest(http.MethodPost, "http://"+e.serve.addr+"/v1/events", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+e.serve.token)
	resp, err := (&http.Client{Timeout: 60 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("POST /v1/events: %v", err)
	}
	defer resp.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(b, &out)
	return resp.StatusCode, resp.Header.Get("Retry-After"), out
}

// confirmations counts booking confirmations per recipient at the fake.
func (e *outageEnv) confirmations(t *testing.T) map[string]int {
	out := map[string]int{}
	for to, r := range e.fake.receipts(t) {
		out[to] = r.confirmations
	}
	return out
}

// waitConfirmedOnce waits until clients' confirmations have all arrived,
// then requires exactly one each.
func (e *outageEnv) waitConfirmedOnce(t *testing.T, clients []int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		got, missing := e.confirmations(t), 0
		for _, i := range clients {
			if got[faultRecipient(i)] == 0 {
				missing++
			}
		}
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d booking confirmations never reached the provider; serve said:\n%s", missing, len(clients), tail(e.serve.all.String(), 40))
		}
		time.Sleep(250 * time.Millisecond)
	}
	time.Sleep(2 * time.Second) // a duplicate would show by now
	got := e.confirmations(t)
	for _, i := range clients {
		if n := got[faultRecipient(i)]; n != 1 {
			t.Errorf("client %d got %d booking confirmations, want 1", i, n)
		}
	}
}

// readyz returns /readyz's status and body on the metrics address.
func (e *outageEnv) readyz() (int, string) {
	resp, err := http.Get("http://" + e.serve.metrics + "/readyz")
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (e *outageEnv) waitReadyz(t *testing.T, status int, within time.Duration) string {
	t.Helper()
	var last string
	var got int
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if got, last = e.readyz(); got == status {
			return last
		}
	}
	t.Fatalf("/readyz never answered %d within %v; last %d %s", status, within, got, last)
	return ""
}

// TestServePostgresOutage stops the database under a running serve: intake
// keeps accepting into JetStream, /readyz says the store is down, ingest and
// delivery back off without the process dying, and when Postgres returns
// everything drains, each message sent once.
func TestServePostgresOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary and a Postgres server; skipped with -short")
	}
	pg := startOwnPostgres(t)
	e := newOutageEnv(t, pg.URL)

	if status, _, body := e.post(t, 0); status != http.StatusAccepted {
		t.Fatalf("before the outage: POST = %d %v", status, body)
	}
	e.waitConfirmedOnce(t, []int{0}, 60*time.Second)

	// Some events are still in the pipeline when the database goes.
	var during []int
	for i := 1; i <= 5; i++ {
		if status, _, body := e.post(t, i); status != http.StatusAccepted {
			t.Fatalf("POST = %d %v", status, body)
		}
		during = append(during, i)
	}
	pg.stop(t)
	if body := e.waitReadyz(t, http.StatusServiceUnavailable, 30*time.Second); !strings.Contains(body, "store") {
		t.Errorf("/readyz with the store down = %s, want it to name the store", body)
	}
	for i := 6; i <= 25; i++ {
		if status, _, body := e.post(t, i); status != http.StatusAccepted {
			t.Fatalf("with Postgres down: POST = %d %v (intake must keep accepting into JetStream)", status, body)
		}
		during = append(during, i)
	}
	time.Sleep(8 * time.Second) // ingest and delivery meet the outage and back off
	if e.serve.exited() {
		t.Fatalf("serve exited during the Postgres outage:\n%s", e.serve.all.String())
	}
	if got := e.confirmations(t); got[faultRecipient(25)] != 0 {
		t.Fatalf("a confirmation went out while the store was down")
	}

	pg.start(t)
	e.waitReadyz(t, http.StatusOK, 60*time.Second)
	e.waitConfirmedOnce(t, append([]int{0}, during...), 120*time.Second)

	pool, err := pgxpool.New(context.Background(), pg.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var applied int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM events WHERE source = 'fault' AND applied`).Scan(&applied); err != nil {
		t.Fatal(err)
	}
	if want := 3 * 26; applied != want {
		t.Errorf("%d events applied after the outage, want %d", applied, want)
	}
}

// TestServeNATSOutage stops every NATS node under a running serve: intake
// answers 503 with Retry-After and accepts nothing of the batch, /readyz
// says NATS is down; when NATS returns, serve recovers without a restart and
// the batch sent again is accepted and delivered once.
func TestServeNATSOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	dbURL := pgtest.NewSchemaURL(t)
	e := newOutageEnv(t, dbURL)
	if status, _, body := e.post(t, 0); status != http.StatusAccepted {
		t.Fatalf("before the outage: POST = %d %v", status, body)
	}
	e.waitConfirmedOnce(t, []int{0}, 60*time.Second)

	e.stopNATS()
	status, retryAfter, body := e.post(t, 1)
	if status != http.StatusServiceUnavailable {
		t.Fatalf("with NATS down: POST = %d %v, want 503", status, body)
	}
	if n, err := strconv.Atoi(retryAfter); err != nil || n < 1 {
		t.Errorf("503 Retry-After = %q, want a number of seconds", retryAfter)
	}
	if acc, _ := body["accepted"].([]any); len(acc) != 0 {
		t.Errorf("with NATS down, part of the batch was accepted: %v", body)
	}
	if na, _ := body["not_accepted"].([]any); len(na) != 3 {
		t.Errorf("503 body does not list the 3 events as not accepted: %v", body)
	}
	if body := e.waitReadyz(t, http.StatusServiceUnavailable, 30*time.Second); !strings.Contains(body, "nats") {
		t.Errorf("/readyz with NATS down = %s, want it to name nats", body)
	}

	e.startNATS(t)
	e.waitReadyz(t, http.StatusOK, 60*time.Second)
	if e.serve.exited() {
		t.Fatal("serve exited during the NATS outage")
	}
	var accepted bool
	for deadline := time.Now().Add(30 * time.Second); !accepted && time.Now().Before(deadline); {
		status, _, body = e.post(t, 1)
		accepted = status == http.StatusAccepted
		if !accepted {
			time.Sleep(time.Second)
		}
	}
	if !accepted {
		t.Fatalf("after NATS returned: POST = %d %v", status, body)
	}
	e.waitConfirmedOnce(t, []int{0, 1}, 60*time.Second)
}
