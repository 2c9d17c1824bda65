package fakeprovider

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// activityMessage is one entry of GET /v3/messages.
type activityMessage struct {
	FromEmail     string `json:"from_email"`
	MsgID         string `json:"msg_id"`
	Subject       string `json:"subject"`
	ToEmail       string `json:"to_email"`
	Status        string `json:"status"` // processed, delivered or not_delivered
	OpensCount    int    `json:"opens_count"`
	ClicksCount   int    `json:"clicks_count"`
	LastEventTime string `json:"last_event_time"`
}

func (s *SendGrid) handleActivity(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.begin(w, r); !ok {
		return
	}
	if f, ok := s.takeFailure(); ok {
		if _, done := s.failure(w, r, f, nil); done {
			return
		}
	}
	q := r.URL.Query()
	limit := 10
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			writeSendGridErrors(w, http.StatusBadRequest, fieldError("limit", "limit must be between 1 and 1000"))
			return
		}
		limit = n
	}
	var cond activityQuery
	if v := q.Get("query"); v != "" {
		var err error
		if cond, err = parseActivityQuery(v); err != nil {
			writeSendGridErrors(w, http.StatusBadRequest, fieldError("query", "invalid query: "+err.Error()))
			return
		}
	}
	now := time.Now()
	s.mu.Lock()
	lag := s.cfg.ActivityLag
	var out []activityMessage
	for _, m := range slices.Backward(s.msgs) { // newest first
		if m.processed.IsZero() || now.Before(m.processed.Add(lag)) || !cond.match(m) {
			continue
		}
		out = append(out, activityMessage{
			FromEmail: m.From, MsgID: m.EventMessageID, Subject: m.Subject, ToEmail: m.To,
			Status: activityStatus(m.Status), LastEventTime: m.lastEvent.UTC().Format(time.RFC3339),
		})
		if len(out) == limit {
			break
		}
	}
	s.mu.Unlock()
	if out == nil {
		out = []activityMessage{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"messages": out})
}

func activityStatus(event string) string {
	switch event {
	case "processed":
		return "processed"
	case "bounce", "dropped":
		return "not_delivered"
	}
	return "delivered"
}

// activityQuery is a conjunction of conditions.
type activityQuery []func(*emailMessage) bool

func (q activityQuery) match(m *emailMessage) bool {
	for _, c := range q {
		if !c(m) {
			return false
		}
	}
	return true
}

// parseActivityQuery parses the subset of SendGrid's query language the fake
// supports (see [SendGrid]).
func parseActivityQuery(src string) (activityQuery, error) {
	toks, err := tokenize(src)
	if err != nil {
		return nil, err
	}
	var q activityQuery
	i := 0
	next := func() string {
		if i >= len(toks) {
			return ""
		}
		i++
		return toks[i-1]
	}
	str := func() (string, error) {
		t := next()
		if len(t) < 2 || t[0] != '"' {
			return "", errors.New("expected a quoted string")
		}
		return t[1 : len(t)-1], nil
	}
	for {
		field := next()
		for field == "(" {
			field = next()
		}
		if field == "" {
			return nil, errors.New("expected a condition")
		}
		var cond func(*emailMessage) bool
		if field == "last_event_time" {
			if !strings.EqualFold(next(), "BETWEEN") || !strings.EqualFold(next(), "TIMESTAMP") {
				return nil, errors.New(`expected BETWEEN TIMESTAMP "..." AND TIMESTAMP "..."`)
			}
			a, err := str()
			if err != nil {
				return nil, err
			}
			if !strings.EqualFold(next(), "AND") || !strings.EqualFold(next(), "TIMESTAMP") {
				return nil, errors.New(`expected AND TIMESTAMP "..."`)
			}
			b, err := str()
			if err != nil {
				return nil, err
			}
			from, err1 := time.Parse(time.RFC3339, a)
			to, err2 := time.Parse(time.RFC3339, b)
			if err1 != nil || err2 != nil {
				return nil, errors.New("timestamps must be RFC 3339")
			}
			cond = func(m *emailMessage) bool {
				t := m.lastEvent.Truncate(time.Second)
				return !t.Before(from) && !t.After(to)
			}
		} else {
			get, err := activityField(field)
			if err != nil {
				return nil, err
			}
			if next() != "=" {
				return nil, errors.New("expected = after " + field)
			}
			want, err := str()
			if err != nil {
				return nil, err
			}
			cond = func(m *emailMessage) bool { return get(m) == want }
		}
		q = append(q, cond)
		t := next()
		for t == ")" {
			t = next()
		}
		switch {
		case t == "":
			return q, nil
		case strings.EqualFold(t, "AND"):
		default:
			return nil, errors.New("unsupported token " + strconv.Quote(t) + " (the fake supports AND only)")
		}
	}
}

// activityField returns the accessor for a query field.
func activityField(name string) (func(*emailMessage) string, error) {
	if key, ok := strings.CutPrefix(name, "unique_args['"); ok {
		key = strings.TrimSuffix(key, "']")
		return func(m *emailMessage) string { return m.CustomArgs[key] }, nil
	}
	switch name {
	case "msg_id":
		return func(m *emailMessage) string { return m.EventMessageID }, nil
	case "to_email":
		return func(m *emailMessage) string { return m.To }, nil
	case "from_email":
		return func(m *emailMessage) string { return m.From }, nil
	case "subject":
		return func(m *emailMessage) string { return m.Subject }, nil
	case "status":
		return func(m *emailMessage) string { return activityStatus(m.Status) }, nil
	}
	return nil, errors.New("unsupported field " + strconv.Quote(name))
}

// tokenize splits a query into identifiers (unique_args['k'] is one),
// quoted strings (kept with their quotes), "=", "(" and ")".
func tokenize(src string) ([]string, error) {
	var toks []string
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			i++
		case c == '=' || c == '(' || c == ')':
			toks = append(toks, string(c))
			i++
		case c == '"':
			end := strings.IndexByte(src[i+1:], '"')
			if end < 0 {
				return nil, errors.New("unterminated string")
			}
			toks = append(toks, src[i:i+end+2])
			i += end + 2
		default:
			j := i
			for j < len(src) && (unicode.IsLetter(rune(src[j])) || unicode.IsDigit(rune(src[j])) || src[j] == '_') {
				j++
			}
			if j < len(src) && strings.HasPrefix(src[j:], "['") {
				end := strings.Index(src[j:], "']")
				if end < 0 {
					return nil, errors.New("unterminated ['key']")
				}
				j += end + 2
			}
			if j == i {
				return nil, errors.New("unexpected character " + strconv.Quote(string(c)))
			}
			toks = append(toks, src[i:j])
			i = j
		}
	}
	return toks, nil
}
