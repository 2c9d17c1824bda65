package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/nudgehq/nudge/publishers"
)

// intakeClient posts events to POST /v1/events.
type intakeClient struct {
	base  string
	token string
	http  *http.Client
}

type intakeAccepted struct {
	ID        string `json:"id"`
	Type      string `json:"type"`
	Duplicate bool   `json:"duplicate"`
}

type intakeRejected struct {
	Index  int                     `json:"index"`
	ID     string                  `json:"id"`
	Errors []publishers.FieldError `json:"errors"`
}

type intakeResult struct {
	accepted []intakeAccepted
	rejected []intakeRejected
}

// post sends one batch. A 400 with per-event errors is a result, not an
// error: the batch was refused whole, and rejected says why.
func (c *intakeClient) post(events []publishers.Event) (intakeResult, error) {
	body, err := json.Marshal(events)
	if err != nil {
		return intakeResult{}, err
	}
	req, err := http.NewRequest(http.MethodPost, c.base+"/v1/events", bytes.NewReader(body))
	if err != nil {
		return intakeResult{}, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return intakeResult{}, fmt.Errorf("posting events to %s: %w (is nudge running?)", c.base, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	var out struct {
		Accepted []intakeAccepted `json:"accepted"`
		Events   []intakeRejected `json:"events"`
		Error    *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
			Hint    string `json:"hint"`
		} `json:"error"`
	}
	_ = json.Unmarshal(raw, &out)
	switch {
	case resp.StatusCode == http.StatusAccepted:
		return intakeResult{accepted: out.Accepted}, nil
	case resp.StatusCode == http.StatusBadRequest && len(out.Events) > 0:
		return intakeResult{rejected: out.Events}, nil
	case out.Error != nil:
		msg := fmt.Sprintf("server answered %d %s: %s", resp.StatusCode, out.Error.Code, out.Error.Message)
		if out.Error.Hint != "" {
			msg += " (" + out.Error.Hint + ")"
		}
		return intakeResult{}, fmt.Errorf("%s", msg)
	default:
		return intakeResult{}, fmt.Errorf("server answered %d: %s", resp.StatusCode, strings.TrimSpace(string(raw)))
	}
}

// postLines sends a batch of file lines. Because the server refuses a batch
// whole when any event is invalid, refused events are reported by line and
// the rest are sent again without them.
func (c *intakeClient) postLines(lines []fileLine) (accepted, duplicates int, problems []string, err error) {
	for len(lines) > 0 {
		events := make([]publishers.Event, len(lines))
		for i, l := range lines {
			events[i] = l.ev
		}
		res, err := c.post(events)
		if err != nil {
			return accepted, duplicates, problems, err
		}
		if len(res.rejected) == 0 {
			for _, a := range res.accepted {
				if a.Duplicate {
					duplicates++
				} else {
					accepted++
				}
			}
			return accepted, duplicates, problems, nil
		}
		bad := map[int]bool{}
		for _, r := range res.rejected {
			if r.Index < 0 || r.Index >= len(lines) {
				return accepted, duplicates, problems, fmt.Errorf("server rejected event index %d of a batch of %d", r.Index, len(lines))
			}
			bad[r.Index] = true
			parts := make([]string, 0, len(r.Errors))
			for _, f := range r.Errors {
				parts = append(parts, f.Error())
			}
			problems = append(problems, fmt.Sprintf("line %d: %s", lines[r.Index].n, strings.Join(parts, "; ")))
		}
		kept := lines[:0:0]
		for i, l := range lines {
			if !bad[i] {
				kept = append(kept, l)
			}
		}
		lines = kept
	}
	return accepted, duplicates, problems, nil
}

// call does one API request and decodes a JSON answer into out. Error
// answers become errors carrying the server's message and hint.
func (c *intakeClient) call(method, path string, out any) error {
	return c.send(method, path, nil, out)
}

// send is call with a JSON request body (none when in is nil).
func (c *intakeClient) send(method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("calling %s: %w (is nudge running?)", c.base, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if resp.StatusCode >= 300 {
		var e struct {
			Error struct{ Code, Message, Hint string } `json:"error"`
		}
		if json.Unmarshal(raw, &e) == nil && e.Error.Message != "" {
			msg := e.Error.Message
			if e.Error.Hint != "" {
				msg += " (" + e.Error.Hint + ")"
			}
			return fmt.Errorf("%s", msg)
		}
		return fmt.Errorf("server answered %d: %s", resp.StatusCode, strings.TrimSpace(string(raw)))
	}
	return json.Unmarshal(raw, out)
}
