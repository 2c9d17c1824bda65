// Package clustertest runs a real NATS cluster for tests: three (or more)
// nats-server processes built from the nats-server/v2 module nudge already
// depends on (the same code as the production binary), each with its own
// file store and `sync_interval: always`, routed into one cluster.
//
// Nodes are processes, so a test can SIGKILL one and start it again, as
// happens in production. With [Config.Netns] each node also runs in a
// network namespace of its own behind a bridge (needs root), so that
// [Cluster.Isolate] can cut one node off from its peers while clients still
// reach it — a real partition, not a stopped process.
package clustertest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
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

	"github.com/nats-io/nats.go/jetstream"
)

// Config says what cluster to run.
type Config struct {
	// Nodes is the cluster size; default 3.
	Nodes int
	// Netns runs each node in its own network namespace (root only), so
	// Isolate can partition it.
	Netns bool
	// NoWait returns as soon as the processes are started, before the
	// cluster has formed (to test clients that start with it).
	NoWait bool
}

// Node is one nats-server process.
type Node struct {
	Name       string
	ClientURL  string // nats://host:port
	host       string
	clientPort int
	routePort  int
	httpPort   int
	conf       string
	ns         string // network namespace, "" on plain loopback

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	log  *os.File
}

// Cluster is a running NATS cluster.
type Cluster struct {
	Nodes  []*Node
	bin    string
	dir    string
	netns  *netnsSetup
	Kills  int // nodes killed through Kill
	mu     sync.Mutex
	isoled map[int]bool
}

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// serverBinary builds nats-server from the module in go.mod once per test
// binary (the machine's own nats-server is too old for nudge).
func serverBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "nudge-nats-server-")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "nats-server")
		out, err := exec.Command("go", "build", "-o", builtBin, "github.com/nats-io/nats-server/v2").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("building nats-server: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

// Start builds nats-server if needed, starts the cluster and waits until
// every node answers its health check with JetStream enabled. Everything is
// torn down when the test ends.
func Start(t testing.TB, cfg Config) *Cluster {
	t.Helper()
	if cfg.Nodes == 0 {
		cfg.Nodes = 3
	}
	c := &Cluster{bin: serverBinary(t), dir: t.TempDir(), isoled: map[int]bool{}}
	if cfg.Netns {
		ns, err := setupNetns(cfg.Nodes)
		if err != nil {
			t.Fatalf("clustertest: network namespaces: %v", err)
		}
		c.netns = ns
		t.Cleanup(ns.teardown)
	}
	for i := range cfg.Nodes {
		n := &Node{Name: fmt.Sprintf("n%d", i+1)}
		if c.netns != nil {
			n.host, n.ns = c.netns.nodeIP(i), c.netns.nsName(i)
			n.clientPort, n.routePort, n.httpPort = 4222, 6222, 8222
		} else {
			n.host = "127.0.0.1"
			n.clientPort, n.routePort, n.httpPort = freePort(t), freePort(t), freePort(t)
		}
		n.ClientURL = fmt.Sprintf("nats://%s:%d", n.host, n.clientPort)
		c.Nodes = append(c.Nodes, n)
	}
	for _, n := range c.Nodes {
		var routes []string
		for _, p := range c.Nodes {
			if p != n {
				routes = append(routes, fmt.Sprintf("nats-route://%s:%d", p.host, p.routePort))
			}
		}
		store := filepath.Join(c.dir, n.Name)
		n.conf = filepath.Join(c.dir, n.Name+".conf")
		conf := fmt.Sprintf(`server_name: %s
listen: "%s:%d"
http: "%s:%d"
# Notice a dead route in seconds, not minutes (partition tests).
ping_interval: "1s"
ping_max: 3
jetstream {
  store_dir: %q
  sync_interval: always
}
cluster {
  name: nudge-test
  listen: "%s:%d"
  routes: [%s]
}
`, n.Name, n.host, n.clientPort, n.host, n.httpPort, store, n.host, n.routePort, strings.Join(routes, ", "))
		if err := os.WriteFile(n.conf, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for _, n := range c.Nodes {
			n.kill()
		}
	})
	for _, n := range c.Nodes {
		if err := c.start(n); err != nil {
			t.Fatal(err)
		}
	}
	if !cfg.NoWait {
		c.WaitHealthy(t, 60*time.Second)
	}
	return c
}

// ClientURLs is every node's client URL, comma-separated (NUDGE_NATS_URL).
func (c *Cluster) ClientURLs() string {
	var urls []string
	for _, n := range c.Nodes {
		urls = append(urls, n.ClientURL)
	}
	return strings.Join(urls, ",")
}

func (c *Cluster) start(n *Node) error {
	logf, err := os.OpenFile(filepath.Join(c.dir, n.Name+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	var cmd *exec.Cmd
	if n.ns != "" {
		cmd = exec.Command("ip", "netns", "exec", n.ns, c.bin, "-c", n.conf)
	} else {
		cmd = exec.Command(c.bin, "-c", n.conf)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("clustertest: starting %s: %w", n.Name, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); logf.Close(); close(done) }()
	n.mu.Lock()
	n.cmd, n.done, n.log = cmd, done, logf
	n.mu.Unlock()
	return nil
}

func (n *Node) kill() {
	n.mu.Lock()
	cmd, done := n.cmd, n.done
	n.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
	}
}

// Kill SIGKILLs node i (no shutdown: what a crash or an OOM kill does).
func (c *Cluster) Kill(i int) {
	c.Nodes[i].kill()
	c.mu.Lock()
	c.Kills++
	c.mu.Unlock()
}

// Restart starts node i again on its existing store.
func (c *Cluster) Restart(i int) error { return c.start(c.Nodes[i]) }

// Healthy reports whether node i answers /healthz (JetStream current).
func (c *Cluster) Healthy(i int) bool {
	n := c.Nodes[i]
	client := http.Client{Timeout: 2 * time.Second}
	resp, err := client.Get(fmt.Sprintf("http://%s:%d/healthz", n.host, n.httpPort))
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// WaitHealthy waits until every node is healthy.
func (c *Cluster) WaitHealthy(t testing.TB, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for i := range c.Nodes {
		for !c.Healthy(i) {
			if time.Now().After(deadline) {
				t.Fatalf("clustertest: node %s not healthy within %v; log:\n%s", c.Nodes[i].Name, within, c.Log(i))
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// Log returns node i's log so far.
func (c *Cluster) Log(i int) string {
	b, _ := os.ReadFile(filepath.Join(c.dir, c.Nodes[i].Name+".log"))
	return string(b)
}

// StreamLeader returns the index of the node leading stream, or -1.
func (c *Cluster) StreamLeader(ctx context.Context, js jetstream.JetStream, stream string) int {
	s, err := js.Stream(ctx, stream)
	if err != nil {
		return -1
	}
	info, err := s.Info(ctx)
	if err != nil || info.Cluster == nil {
		return -1
	}
	for i, n := range c.Nodes {
		if n.Name == info.Cluster.Leader {
			return i
		}
	}
	return -1
}

// Isolate cuts node i off from its peers (routes dropped both ways by
// blackhole routes); clients still reach it. Needs Config.Netns.
func (c *Cluster) Isolate(i int) error {
	if c.netns == nil {
		return fmt.Errorf("clustertest: Isolate needs Config.Netns")
	}
	c.mu.Lock()
	c.isoled[i] = true
	c.mu.Unlock()
	return c.netns.blackhole("add", i)
}

// Heal undoes Isolate.
func (c *Cluster) Heal(i int) error {
	c.mu.Lock()
	was := c.isoled[i]
	delete(c.isoled, i)
	c.mu.Unlock()
	if !was {
		return nil
	}
	return c.netns.blackhole("del", i)
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// netnsSetup is a bridge in the test's namespace with one veth pair per
// node, each node's end in its own namespace.
type netnsSetup struct {
	id     string // short random suffix: names never collide with others'
	subnet string // "10.233.N"
	nodes  int
}

func setupNetns(nodes int) (*netnsSetup, error) {
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("needs root")
	}
	raw := make([]byte, 2)
	_, _ = rand.Read(raw)
	id := hex.EncodeToString(raw)
	s := &netnsSetup{id: id, subnet: fmt.Sprintf("10.233.%d", 1+int(raw[0])%250), nodes: nodes}
	bridge := "nbr" + id
	cmds := [][]string{
		{"link", "add", bridge, "type", "bridge"},
		{"addr", "add", s.subnet + ".1/24", "dev", bridge},
		{"link", "set", bridge, "up"},
	}
	for i := range nodes {
		ns, host, peer := s.nsName(i), fmt.Sprintf("nv%s%dh", id, i), fmt.Sprintf("nv%s%dn", id, i)
		cmds = append(cmds,
			[]string{"netns", "add", ns},
			[]string{"link", "add", host, "type", "veth", "peer", "name", peer},
			[]string{"link", "set", host, "master", bridge},
			[]string{"link", "set", host, "up"},
			[]string{"link", "set", peer, "netns", ns},
			[]string{"-n", ns, "addr", "add", s.nodeIP(i) + "/24", "dev", peer},
			[]string{"-n", ns, "link", "set", peer, "up"},
			[]string{"-n", ns, "link", "set", "lo", "up"},
		)
	}
	for _, args := range cmds {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			s.teardown()
			return nil, fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	return s, nil
}

func (s *netnsSetup) nsName(i int) string { return fmt.Sprintf("nudge-%s-n%d", s.id, i+1) }
func (s *netnsSetup) nodeIP(i int) string { return fmt.Sprintf("%s.%d", s.subnet, 11+i) }

// blackhole adds or deletes routes that drop traffic between node i and
// every other node, on both sides.
func (s *netnsSetup) blackhole(op string, i int) error {
	for j := range s.nodes {
		if j == i {
			continue
		}
		for _, a := range [][2]int{{i, j}, {j, i}} {
			args := []string{"-n", s.nsName(a[0]), "route", op, "blackhole", s.nodeIP(a[1]) + "/32"}
			if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
				return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, out)
			}
		}
	}
	return nil
}

func (s *netnsSetup) teardown() {
	for i := range s.nodes {
		_ = exec.Command("ip", "netns", "del", s.nsName(i)).Run()
		_ = exec.Command("ip", "link", "del", fmt.Sprintf("nv%s%dh", s.id, i)).Run()
	}
	_ = exec.Command("ip", "link", "del", "nbr"+s.id).Run()
}
