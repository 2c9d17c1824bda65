package httpapi_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nudgehq/nudge/internal/httpapi"
)

func TestSecurityHeadersAndBearerScheme(t *testing.T) {
	srv, _, _ := newAPI(t)
	for _, auth := range []string{"Bearer secret", "bearer secret", "BEARER secret", "Bearer  secret"} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v1/audit", nil)
		req.Header.Set("Authorization", auth)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("Authorization %q: %d, want 200", auth, resp.StatusCode)
		}
	}
	for _, path := range []string{"/v1/audit", "/healthz", "/"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: headers %v, want nosniff and no-store", path, resp.Header)
		}
	}
}

// A client that sends headers and then trickles (or never sends) its body
// is cut off by the server's read timeout instead of holding the connection.
func TestServerClosesSlowBodies(t *testing.T) {
	s := httpapi.NewHTTPServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
	}))
	if s.ReadTimeout <= 0 || s.ReadHeaderTimeout <= 0 || s.IdleTimeout <= 0 || s.MaxHeaderBytes <= 0 {
		t.Fatalf("server limits %v %v %v %v: all must be set", s.ReadTimeout, s.ReadHeaderTimeout, s.IdleTimeout, s.MaxHeaderBytes)
	}
	s.ReadTimeout = 300 * time.Millisecond // the mechanism, faster than the default
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ln)
	t.Cleanup(func() { s.Close() })

	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, _ = io.WriteString(conn, "POST /webhooks/calcom HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n{\"trig")
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	start := time.Now()
	_, err = io.ReadAll(conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("connection still open after %v", time.Since(start))
	}

	// Headers beyond MaxHeaderBytes are refused.
	conn2, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn2.Close()
	_, _ = io.WriteString(conn2, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: "+strings.Repeat("a", httpapi.MaxHeaderBytes+8192)+"\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(conn2), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("huge header: %d, want 431", resp.StatusCode)
	}
}

// A 400 for a large batch lists a bounded number of invalid events and
// counts them all.
func TestIntakeBoundsBatchErrors(t *testing.T) {
	srv, _, rec := newAPI(t)
	bad := strings.Replace(event("e", "client.upserted"), `"timezone":"Europe/Paris"`, `"timezone":"Mars/Base","x1":1,"x2":2,"x3":3`, 1)
	items := make([]string, 1000)
	for i := range items {
		items[i] = bad
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/events", strings.NewReader("["+strings.Join(items, ",")+"]"))
	req.Header.Set("Authorization", "Bearer secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if len(raw) > 64<<10 {
		t.Errorf("the 400 is %d bytes, want a bounded answer", len(raw))
	}
	for _, want := range []string{`"invalid": 1000`, "1000 of 1000 events are invalid", "the first 50 are listed"} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("answer lacks %q", want)
		}
	}
	if n := strings.Count(string(raw), `"index"`); n != httpapi.MaxListedRejections {
		t.Errorf("%d events listed, want %d", n, httpapi.MaxListedRejections)
	}
	if len(rec.ids) != 0 {
		t.Errorf("published %v", rec.ids)
	}
}

// A batch the bus fails part way through says what was accepted; it never
// claims that nothing was.
func TestIntakePartialFailureIsHonest(t *testing.T) {
	srv := newPartialIntake(t, 2)
	status, body := post(t, srv, "Bearer secret", "["+event("e1", "client.upserted")+","+event("e2", "client.upserted")+","+event("e3", "client.upserted")+"]")
	if status != http.StatusServiceUnavailable {
		t.Fatalf("status %d: %v", status, body)
	}
	msg := body["error"].(map[string]any)["message"].(string)
	if strings.Contains(msg, "nothing was accepted") || !strings.Contains(msg, "2 of 3 events were accepted") {
		t.Errorf("message %q", msg)
	}
	if a, n := body["accepted"].([]any), body["not_accepted"].([]any); len(a) != 2 || len(n) != 1 || n[0] != "e3" {
		t.Errorf("accepted %v, not_accepted %v", a, n)
	}
}

// Invalid UTF-8 is refused, not replaced with U+FFFD.
func TestIntakeRefusesInvalidUTF8(t *testing.T) {
	srv, _, rec := newAPI(t)
	bad := strings.Replace(event("e1", "client.upserted"), "Ann", "A\xffn", 1)
	status, body := post(t, srv, "Bearer secret", bad)
	if status != http.StatusBadRequest || !strings.Contains(body["error"].(map[string]any)["message"].(string), "UTF-8") {
		t.Errorf("%d %v, want a 400 about UTF-8", status, body)
	}
	if len(rec.ids) != 0 {
		t.Errorf("published %v", rec.ids)
	}
}
