package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"unicode"

	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/vocab"
)

// ReadSnapshot reads what the deliverer's checks need about a client in one
// statement: the client, its care pause and its consent ledger joined (one
// row per ledger entry), with the suppression state of the addresses a
// message on channel could go to. See store.Snapshot.
//
// Suppressions are looked up by exact address: to as IsSuppressed would
// normalise it, and the client's own address on channel (its phone, or its
// email lower-cased). An address normalised some other way is not in the
// snapshot, and IsSuppressed reads it as usual.
//
// Where the dialect allows (ReadBatches), concurrent calls are read as one
// statement (see coalescer), after a wait of at most ReadLinger for
// company: each caller's statement still starts after its call, so a batch
// never answers with a view older than the call.
func (s *Store) ReadSnapshot(ctx context.Context, clientID string, channel vocab.Channel, to string) (*store.Snapshot, error) {
	it, err := newSnapItem(store.SnapshotRequest{ClientID: clientID, Channel: channel, To: to})
	if err != nil {
		return nil, err
	}
	if s.snaps == nil {
		s.readSnapshot(ctx, it)
	} else if err := s.snaps.do(ctx, it); err != nil {
		return nil, err
	}
	return it.result()
}

// ReadSnapshotBatch reads the snapshots of several requests as one
// statement, the way concurrent ReadSnapshot calls are batched: answers[i]
// is requests[i]'s snapshot, or errs[i] its error (store.ErrNotFound for
// an unknown client). The conformance tests use it to check a batch
// against reads one by one.
func (s *Store) ReadSnapshotBatch(ctx context.Context, requests []store.SnapshotRequest) (answers []*store.Snapshot, errs []error) {
	answers, errs = make([]*store.Snapshot, len(requests)), make([]error, len(requests))
	var items []*snapItem
	index := map[*snapItem]int{}
	for i, r := range requests {
		it, err := newSnapItem(r)
		if err != nil {
			errs[i] = err
			continue
		}
		index[it] = i
		items = append(items, it)
	}
	for len(items) > 0 {
		batch := items[:min(len(items), maxBatchRows)]
		items = items[len(batch):]
		s.flushSnapshots(ctx, batch)
		for _, it := range batch {
			answers[index[it]], errs[index[it]] = it.result()
		}
	}
	return answers, errs
}

// snapItem is one ReadSnapshot call in a batch.
type snapItem struct {
	clientID string
	channel  vocab.Channel
	toKey    string
	out      *store.Snapshot // nil: no such client
	err      error
}

// newSnapItem checks a request's arguments and normalises the address to
// look up as IsSuppressed would.
func newSnapItem(r store.SnapshotRequest) (*snapItem, error) {
	if err := required("client id", r.ClientID); err != nil {
		return nil, err
	}
	if err := validChannel(r.Channel); err != nil {
		return nil, err
	}
	it := &snapItem{clientID: r.ClientID, channel: r.Channel}
	if strings.TrimSpace(r.To) != "" {
		k, err := suppressionKey(r.Channel, r.To)
		if err != nil {
			return nil, err
		}
		it.toKey = k
	}
	return it, nil
}

// result is the item's answer as ReadSnapshot returns it.
func (it *snapItem) result() (*store.Snapshot, error) {
	switch {
	case it.err != nil:
		return nil, fmt.Errorf("reading the delivery snapshot of %s: %w", it.clientID, it.err)
	case it.out == nil:
		return nil, fmt.Errorf("reading the delivery snapshot of %q: %w", it.clientID, store.ErrNotFound)
	}
	return it.out, nil
}

// snapshotSelect and snapshotJoins are what the batch and the single
// statement share around their client subquery c (which has the request
// number n, the client's columns, sup_to and sup_addr); readSnapshots
// scans these columns.
const (
	snapshotSelect = `
		SELECT c.n, c.id, c.first_name, c.timezone, c.phone, c.email, c.locale, c.preferred_channel, c.updated_at, c.created_at,
			c.sup_to, c.sup_addr,
			p.client_id, p.scope, p.until, p.requested_by, p.since, p.active, p.resumed_by, p.updated_at,
			l.seq, l.client_id, l.channel, l.purpose, l.action, l.address, l.source, l.wording_version, l.event_id, l.occurred_at, l.recorded_at
		FROM `
	snapshotJoins = `
		LEFT JOIN care_pauses p ON p.client_id = c.id
		LEFT JOIN consent_ledger l ON l.client_id = c.id
		ORDER BY c.n, l.seq`
)

// flushSnapshots reads the snapshots of a batch with one statement: the
// requests are a VALUES list numbered by position, each joined to its
// client (read once per request in a subquery, so the suppression lookups
// run once, not once per ledger entry), its care pause and its consent
// ledger. If the statement fails, each request is read on its own, so a
// caller gets its own answer.
func (s *Store) flushSnapshots(ctx context.Context, items []*snapItem) {
	if len(items) == 1 {
		s.readSnapshot(ctx, items[0])
		return
	}
	var (
		b    strings.Builder
		args = make([]any, 0, 4*len(items)+1)
	)
	b.WriteString(`WITH r (n, client_id, channel, to_key) AS (VALUES `)
	for i, it := range items {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(CAST(? AS integer), CAST(? AS text), CAST(? AS text), CAST(? AS text))")
		args = append(args, i, it.clientID, string(it.channel), it.toKey)
	}
	// The client's own address on the request's channel, as suppressions
	// store it: the phone as stored, the email lower-cased (see the
	// coverage rule in readSnapshots). LIMIT keeps the planner from
	// folding the subquery into the joins below.
	b.WriteString(`)` + snapshotSelect + `(SELECT r.n, cl.id, cl.first_name, cl.timezone, cl.phone, cl.email, cl.locale, cl.preferred_channel, cl.updated_at, cl.created_at,
				EXISTS (SELECT 1 FROM suppressions s WHERE s.channel = r.channel AND s.address = r.to_key) AS sup_to,
				EXISTS (SELECT 1 FROM suppressions s WHERE s.channel = r.channel AND s.address =
					CASE WHEN r.channel = 'email' THEN lower(cl.email) ELSE cl.phone END) AS sup_addr
			FROM r JOIN clients cl ON cl.id = r.client_id LIMIT ?) c` + snapshotJoins)
	args = append(args, len(items))
	if err := s.readSnapshots(ctx, b.String(), args, items); err != nil {
		for _, it := range items {
			it.out, it.err = nil, nil
			s.readSnapshot(ctx, it)
		}
	}
}

// readSnapshot reads one request's snapshot: flushSnapshots's statement
// for a single client, without the VALUES list (SQLite plans that one
// about twice as slowly).
func (s *Store) readSnapshot(ctx context.Context, it *snapItem) {
	// The client's own address on the channel, as suppressions store it.
	addrExpr := "clients.phone"
	if it.channel == vocab.Email {
		addrExpr = "lower(clients.email)"
	}
	// The client row is read in a subquery of its own (LIMIT 1 keeps the
	// planner from folding it in), so its suppression lookups run once,
	// not once per ledger entry.
	it.err = s.readSnapshots(ctx, snapshotSelect+`(SELECT 0 AS n, id, first_name, timezone, phone, email, locale, preferred_channel, updated_at, created_at,
				EXISTS (SELECT 1 FROM suppressions s WHERE s.channel = ? AND s.address = ?) AS sup_to,
				EXISTS (SELECT 1 FROM suppressions s WHERE s.channel = ? AND s.address = `+addrExpr+`) AS sup_addr
			FROM clients WHERE id = ? LIMIT 1) c`+snapshotJoins,
		[]any{string(it.channel), it.toKey, string(it.channel), it.clientID}, []*snapItem{it})
}

// readSnapshots runs flushSnapshots's statement and sets each item's
// snapshot from its rows.
func (s *Store) readSnapshots(ctx context.Context, query string, args []any, items []*snapItem) error {
	rows, err := s.read.QueryContext(ctx, s.rebind(query), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			n                                int
			c                                store.Client
			p                                store.CarePause
			pClient, pScope, pBy, pResumedBy sql.NullString
			pActive                          sql.NullBool
			supTo, supAddr                   bool
			seq                              sql.NullInt64
			lClient, lChannel, lPurpose      sql.NullString
			lAction, lAddress, lSource       sql.NullString
			lWording                         sql.NullString
			lEvent                           sql.NullString
			e                                store.ConsentEntry
		)
		err := rows.Scan(&n, &c.ID, &c.FirstName, &c.Timezone, &c.Phone, &c.Email, &c.Locale, &c.PreferredChannel,
			scanTime(&c.UpdatedAt), scanTime(&c.CreatedAt), &supTo, &supAddr,
			&pClient, &pScope, scanTime(&p.Until), &pBy, scanTime(&p.Since), &pActive, &pResumedBy, scanTime(&p.UpdatedAt),
			&seq, &lClient, &lChannel, &lPurpose, &lAction, &lAddress, &lSource, &lWording, &lEvent,
			scanTime(&e.OccurredAt), scanTime(&e.RecordedAt))
		if err != nil {
			return err
		}
		if n < 0 || n >= len(items) {
			return fmt.Errorf("snapshot row for request %d of %d", n, len(items))
		}
		it := items[n]
		if it.out == nil {
			snap := &store.Snapshot{Client: c, Channel: it.channel, Suppressed: map[string]bool{}}
			if pClient.Valid {
				p.ClientID, p.Scope, p.RequestedBy, p.Active, p.ResumedBy = pClient.String, pScope.String, pBy.String, pActive.Bool, pResumedBy.String
				snap.Pause, snap.Paused = p, true
			}
			// The lookup by the client's address covers the key
			// IsSuppressed makes of it only when that key is exactly
			// what the SQL compared: the phone as stored, the email
			// lower-cased by the database (the same as Go's for ASCII).
			switch {
			case it.channel == vocab.SMS && c.Phone != "":
				snap.Suppressed[c.Phone] = supAddr
			case it.channel == vocab.Email && c.Email != "" && isASCII(c.Email):
				snap.Suppressed[asciiLower(c.Email)] = supAddr
			}
			if it.toKey != "" {
				snap.Suppressed[it.toKey] = supTo
			}
			it.out = snap
		}
		if seq.Valid {
			e.Seq = seq.Int64
			e.ClientID, e.Channel, e.Purpose = lClient.String, vocab.Channel(lChannel.String), vocab.Purpose(lPurpose.String)
			e.Action, e.Address, e.Source = store.ConsentAction(lAction.String), lAddress.String, lSource.String
			e.WordingVersion, e.EventID = lWording.String, lEvent.String
			it.out.Ledger = append(it.out.Ledger, e)
		}
	}
	if err := rows.Err(); err != nil {
		// Half-read answers are not answers.
		for _, it := range items {
			it.out = nil
		}
		return err
	}
	return nil
}

// fromSnapshot returns the snapshot that answers a plain read (q is the
// read handle, not a transaction) about clientID, or nil.
func (s *Store) fromSnapshot(ctx context.Context, q querier, clientID string) *store.Snapshot {
	if q != querier(s.read) {
		return nil
	}
	return store.SnapshotFor(ctx, clientID)
}

func isASCII(v string) bool {
	for i := 0; i < len(v); i++ {
		if v[i] > unicode.MaxASCII {
			return false
		}
	}
	return true
}

// asciiLower lower-cases ASCII letters only, as SQLite's lower() does (and
// Postgres's, for ASCII text).
func asciiLower(v string) string {
	b := []byte(v)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
