package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/nudgehq/nudge/publishers"
)

type publishCmd struct {
	Type   string `arg:"" optional:"" help:"Event type, e.g. client.upserted (with --data)."`
	Data   string `help:"The event's data as a JSON object (with TYPE)." placeholder:"JSON"`
	ID     string `help:"Event id (idempotency key); generated when empty (with TYPE)."`
	Source string `help:"CloudEvents source of events built from --data." default:"nudge-cli"`
	File   string `help:"JSON Lines file of complete CloudEvents, one per line ('-' for stdin)." type:"path" placeholder:"FILE"`
	Batch  int    `help:"Events per HTTP request when publishing a file." default:"100"`
	apiTarget
}

// apiTarget is how the client commands (publish, dlq) reach a running nudge.
type apiTarget struct {
	Server  string `help:"Base URL of a running nudge." default:"http://127.0.0.1:8080"`
	Token   string `help:"API token; read from DATA-DIR/api-token when empty." name:"token" env:"NUDGE_API_TOKEN"`
	DataDir string `help:"Dev data dir to read the API token from." default:"./.nudge" type:"path"`
}

func (a apiTarget) client() (*intakeClient, error) {
	token := a.Token
	if token == "" {
		b, err := os.ReadFile(filepath.Join(a.DataDir, "api-token"))
		if err != nil {
			return nil, fmt.Errorf("no API token: pass --token or NUDGE_API_TOKEN (dev mode saves one in %s)", filepath.Join(a.DataDir, "api-token"))
		}
		token = strings.TrimSpace(string(b))
	}
	return &intakeClient{base: strings.TrimRight(a.Server, "/"), token: token, http: &http.Client{Timeout: 60 * time.Second}}, nil
}

type exitError struct {
	code int
	msg  string
}

func (e exitError) Error() string { return e.msg }
func (e exitError) ExitCode() int { return e.code }

func (p *publishCmd) Run(g *globals) error {
	if p.File == "" && p.Type == "" {
		return errors.New("give an event TYPE with --data, or --file events.jsonl")
	}
	if p.File != "" && (p.Type != "" || p.Data != "") {
		return errors.New("--file publishes complete events: don't combine it with TYPE or --data")
	}
	if p.Batch < 1 || p.Batch > 1000 {
		return errors.New("--batch must be 1 to 1000")
	}
	c, err := p.client()
	if err != nil {
		return err
	}
	if p.File != "" {
		return p.publishFile(g, c)
	}
	return p.publishOne(g, c)
}

func (p *publishCmd) publishOne(g *globals, c *intakeClient) error {
	if p.Data == "" {
		return errors.New("--data is required with TYPE")
	}
	ev := publishers.Event{
		SpecVersion: "1.0", ID: p.ID, Source: p.Source, Type: p.Type,
		Time: time.Now().UTC(), DataContentType: "application/json", Data: json.RawMessage(p.Data),
	}
	if ev.ID == "" {
		ev.ID = publishers.NewID()
	}
	if err := ev.Validate(); err != nil {
		return problemsError(g, "event not published", describe(err))
	}
	res, err := c.post([]publishers.Event{ev})
	if err != nil {
		return err
	}
	if len(res.rejected) > 0 {
		return problemsError(g, "event rejected by the server", fieldList(res.rejected[0].Errors))
	}
	a := res.accepted[0]
	if a.Duplicate {
		fmt.Fprintf(g.stdout, "duplicate %s %s (already accepted; stored once)\n", a.Type, a.ID)
	} else {
		fmt.Fprintf(g.stdout, "accepted %s %s\n", a.Type, a.ID)
	}
	return nil
}

// fileLine is one event of a JSONL file with its line number.
type fileLine struct {
	n  int
	ev publishers.Event
}

func (p *publishCmd) publishFile(g *globals, c *intakeClient) error {
	var in io.Reader = os.Stdin
	var size int64 = -1
	if p.File != "-" {
		f, err := os.Open(p.File)
		if err != nil {
			return err
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil {
			size = st.Size()
		}
		in = f
	}
	bar := progressbar.NewOptions64(size,
		progressbar.OptionSetWriter(g.stderr),
		progressbar.OptionSetDescription("publishing"),
		progressbar.OptionShowBytes(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
	var accepted, duplicates int
	var problems []string
	var pending []fileLine
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		a, d, probs, err := c.postLines(pending)
		accepted, duplicates, problems = accepted+a, duplicates+d, append(problems, probs...)
		pending = pending[:0]
		return err
	}

	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64*1024), publishersMaxLine)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Bytes()
		_ = bar.Add(len(line) + 1)
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		ev, err := publishers.Parse(line)
		if err != nil {
			problems = append(problems, fmt.Sprintf("line %d: %s", n, oneLine(err)))
			continue
		}
		pending = append(pending, fileLine{n, ev})
		if len(pending) >= p.Batch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading %s at line %d: %w", p.File, n+1, err)
	}
	if err := flush(); err != nil {
		return err
	}
	_ = bar.Finish()
	fmt.Fprintf(g.stdout, "%d accepted, %d duplicate, %d rejected\n", accepted, duplicates, len(problems))
	for _, pr := range problems {
		fmt.Fprintln(g.stdout, "  "+pr)
	}
	if len(problems) > 0 {
		return exitError{2, fmt.Sprintf("%d line(s) rejected", len(problems))}
	}
	return nil
}

// publishersMaxLine bounds one JSONL line (the HTTP body limit is 1 MiB).
const publishersMaxLine = 1 << 20

func describe(err error) string {
	var ve *publishers.ValidationError
	if errors.As(err, &ve) {
		return fieldList(ve.Fields)
	}
	return "  " + err.Error()
}

func fieldList(fields []publishers.FieldError) string {
	var b strings.Builder
	for _, f := range fields {
		name := f.Field
		if name == "" {
			name = "event"
		}
		fmt.Fprintf(&b, "  %s: %s\n", name, f.Message)
	}
	return strings.TrimRight(b.String(), "\n")
}

// oneLine lists an event's problems on one line, each as "field: message".
func oneLine(err error) string {
	var ve *publishers.ValidationError
	if errors.As(err, &ve) {
		parts := make([]string, 0, len(ve.Fields))
		for _, f := range ve.Fields {
			parts = append(parts, f.Error())
		}
		return strings.Join(parts, "; ")
	}
	return err.Error()
}

// problemsError prints an event's problems to stderr as they are and
// returns a short error for the exit status. Validation messages already
// mask what the producer sent (invariant 8 in docs/invariants.md), so they need no log masking,
// which would also mask their examples ("expected like +14155550123").
func problemsError(g *globals, what, problems string) error {
	fmt.Fprintf(g.stderr, "%s:\n%s\n", what, problems)
	return exitError{2, what}
}
