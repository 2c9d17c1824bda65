package bus

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
)

// fakeOldServer speaks just enough of the NATS client protocol (INFO,
// CONNECT, PING/PONG) to announce the given server version.
func fakeOldServer(t *testing.T, version string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) {
				defer c.Close()
				fmt.Fprintf(c, "INFO {\"server_id\":\"FAKE\",\"version\":%q,\"go\":\"go1.19\",\"host\":\"127.0.0.1\",\"port\":4222,\"headers\":true,\"max_payload\":1048576,\"proto\":1,\"jetstream\":true}\r\n", version)
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if strings.HasPrefix(line, "PING") {
						fmt.Fprint(c, "PONG\r\n")
					}
				}
			}(c)
		}
	}()
	return "nats://" + ln.Addr().String()
}

func TestConnectRefusesOldServer(t *testing.T) {
	url := fakeOldServer(t, "2.9.25")
	nc, err := Connect(t.Context(), ExternalConfig{URL: url, Name: "test"})
	if err == nil {
		nc.Close()
		t.Fatal("Connect to a 2.9 server succeeded")
	}
	if !errors.Is(err, ErrServerTooOld) {
		t.Fatalf("Connect error = %v, want ErrServerTooOld", err)
	}
	for _, want := range []string{"2.9.25", "2.14"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}

func TestConnectAcceptsCurrentServer(t *testing.T) {
	url := fakeOldServer(t, "2.14.3")
	nc, err := Connect(t.Context(), ExternalConfig{URL: url, Name: "test"})
	if err != nil {
		t.Fatalf("Connect to a 2.14 server: %v", err)
	}
	nc.Close()
}
