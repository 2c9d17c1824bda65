package fakeprovider

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// listPage is the Messages list JSON with Twilio's paging fields.
type listPage struct {
	End             int               `json:"end"`
	FirstPageURI    string            `json:"first_page_uri"`
	Messages        []messageResource `json:"messages"`
	NextPageURI     *string           `json:"next_page_uri"`
	Page            int               `json:"page"`
	PageSize        int               `json:"page_size"`
	PreviousPageURI *string           `json:"previous_page_uri"`
	Start           int               `json:"start"`
	URI             string            `json:"uri"`
}

func (t *Twilio) handleList(w http.ResponseWriter, r *http.Request) {
	if !t.begin(w, r) {
		return
	}
	if f, ok := t.takeFailure(); ok {
		if _, done := t.failure(w, r, f, nil); done {
			return
		}
	}
	q := r.URL.Query()
	filter, err := parseListFilter(q)
	if err != nil {
		writeTwilioError(w, http.StatusBadRequest, 20001, err.Error())
		return
	}
	pageSize := 50
	if s := q.Get("PageSize"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			writeTwilioError(w, http.StatusBadRequest, 20001, "PageSize must be between 1 and 1000")
			return
		}
		pageSize = n
	}
	page, _ := strconv.Atoi(q.Get("Page"))
	page = max(page, 0)
	account := r.PathValue("AccountSid")

	t.mu.Lock()
	var matched []*smsMessage
	for _, m := range t.msgs {
		if m.account == account && filter.match(m) {
			matched = append(matched, m)
		}
	}
	// Newest first, as Twilio lists them.
	slices.SortFunc(matched, func(a, b *smsMessage) int {
		if c := b.created.Compare(a.created); c != 0 {
			return c
		}
		return int(b.seq - a.seq)
	})
	start := page * pageSize
	if tok := q.Get("PageToken"); strings.HasPrefix(tok, "PA") {
		// "PA<sid>": the page after the message with that SID.
		start = len(matched)
		for i, m := range matched {
			if m.sid == tok[2:] {
				start = i + 1
				break
			}
		}
	}
	start = min(start, len(matched))
	end := min(start+pageSize, len(matched))
	res := make([]messageResource, 0, end-start)
	for _, m := range matched[start:end] {
		res = append(res, m.resource())
	}
	var lastSid string
	if end > start {
		lastSid = matched[end-1].sid
	}
	more := end < len(matched)
	t.mu.Unlock()

	path := "/2010-04-01/Accounts/" + account + "/Messages.json"
	pageURI := func(p int, token string) string {
		v := filter.query()
		v.Set("PageSize", strconv.Itoa(pageSize))
		v.Set("Page", strconv.Itoa(p))
		if token != "" {
			v.Set("PageToken", token)
		}
		return path + "?" + v.Encode()
	}
	out := listPage{
		FirstPageURI: pageURI(0, ""),
		Messages:     res,
		Page:         page,
		PageSize:     pageSize,
		Start:        start,
		End:          max(start, end-1),
		URI:          pageURI(page, q.Get("PageToken")),
	}
	if more {
		next := pageURI(page+1, "PA"+lastSid)
		out.NextPageURI = &next
	}
	if page > 0 {
		prev := pageURI(page-1, "")
		out.PreviousPageURI = &prev
	}
	writeJSON(w, http.StatusOK, out)
}

// listFilter holds the list endpoint's filters. DateSent filters compare
// with date_sent, which is null until a message is sent: a queued message
// matches no DateSent filter.
type listFilter struct {
	to, from      string
	raw           url.Values
	after, before time.Time // inclusive bounds on date_sent
}

func parseListFilter(q url.Values) (listFilter, error) {
	f := listFilter{to: q.Get("To"), from: q.Get("From"), raw: url.Values{}}
	for _, k := range []string{"To", "From", "DateSent", "DateSent>", "DateSent<"} {
		if v := q.Get(k); v != "" {
			f.raw.Set(k, v)
		}
	}
	for key, set := range map[string]func(lo, hi time.Time){
		"DateSent":  func(lo, hi time.Time) { f.after, f.before = lo, hi },
		"DateSent>": func(lo, _ time.Time) { f.after = lo },
		"DateSent<": func(_, hi time.Time) { f.before = hi },
	} {
		v := q.Get(key)
		if v == "" {
			continue
		}
		lo, hi, err := parseDateFilter(v)
		if err != nil {
			return f, err
		}
		set(lo, hi)
	}
	return f, nil
}

// parseDateFilter reads "YYYY-MM-DD" (the whole UTC day) or an RFC 3339
// instant.
func parseDateFilter(v string) (lo, hi time.Time, err error) {
	if d, err := time.Parse(time.DateOnly, v); err == nil {
		return d, d.Add(24*time.Hour - time.Nanosecond), nil
	}
	ts, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return lo, hi, &dateError{v}
	}
	return ts, ts, nil
}

type dateError struct{ v string }

func (e *dateError) Error() string { return "Invalid date filter: " + e.v }

func (f listFilter) match(m *smsMessage) bool {
	if f.to != "" && m.to != f.to || f.from != "" && m.from != f.from {
		return false
	}
	if f.after.IsZero() && f.before.IsZero() {
		return true
	}
	if m.sent.IsZero() {
		return false
	}
	return (f.after.IsZero() || !m.sent.Before(f.after)) && (f.before.IsZero() || !m.sent.After(f.before))
}

func (f listFilter) query() url.Values { return url.Values(cloneValues(f.raw)) }
