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
func (s *Store) ReadSnapshot(ctx context.Context, clientID string, channel vocab.Channel, to string) (*store.Snapshot, error) {
	if err := required("client id", clientID); err != nil {
		return nil, err
	}
	if err := validChannel(channel); err != nil {
		return nil, err
	}
	toKey := ""
	if strings.TrimSpace(to) != "" {
		k, err := suppressionKey(channel, to)
		if err != nil {
			return nil, err
		}
		toKey = k
	}
	// The client's own address on the channel, as suppressions store it
	// (email lower-cased: see the coverage rule below).
	addrExpr := "clients.phone"
	if channel == vocab.Email {
		addrExpr = "lower(clients.email)"
	}
	// The client row is read in a subquery of its own (LIMIT 1 keeps the
	// planner from folding it in), so its suppression lookups run once,
	// not once per ledger entry.
	rows, err := s.read.QueryContext(ctx, s.rebind(`
		SELECT c.id, c.first_name, c.timezone, c.phone, c.email, c.locale, c.preferred_channel, c.updated_at, c.created_at,
			c.sup_to, c.sup_addr,
			p.client_id, p.scope, p.until, p.requested_by, p.since, p.active, p.resumed_by, p.updated_at,
			l.seq, l.client_id, l.channel, l.purpose, l.action, l.address, l.source, l.wording_version, l.event_id, l.occurred_at, l.recorded_at
		FROM (SELECT id, first_name, timezone, phone, email, locale, preferred_channel, updated_at, created_at,
				EXISTS (SELECT 1 FROM suppressions s WHERE s.channel = ? AND s.address = ?) AS sup_to,
				EXISTS (SELECT 1 FROM suppressions s WHERE s.channel = ? AND s.address = `+addrExpr+`) AS sup_addr
			FROM clients WHERE id = ? LIMIT 1) c
		LEFT JOIN care_pauses p ON p.client_id = c.id
		LEFT JOIN consent_ledger l ON l.client_id = c.id
		ORDER BY l.seq`),
		channel, toKey, channel, clientID)
	if err != nil {
		return nil, fmt.Errorf("reading the delivery snapshot of %s: %w", clientID, err)
	}
	defer rows.Close()
	var (
		snap  *store.Snapshot
		found bool
	)
	for rows.Next() {
		var (
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
		err := rows.Scan(&c.ID, &c.FirstName, &c.Timezone, &c.Phone, &c.Email, &c.Locale, &c.PreferredChannel,
			scanTime(&c.UpdatedAt), scanTime(&c.CreatedAt), &supTo, &supAddr,
			&pClient, &pScope, scanTime(&p.Until), &pBy, scanTime(&p.Since), &pActive, &pResumedBy, scanTime(&p.UpdatedAt),
			&seq, &lClient, &lChannel, &lPurpose, &lAction, &lAddress, &lSource, &lWording, &lEvent,
			scanTime(&e.OccurredAt), scanTime(&e.RecordedAt))
		if err != nil {
			return nil, fmt.Errorf("reading the delivery snapshot of %s: %w", clientID, err)
		}
		if !found {
			found = true
			snap = &store.Snapshot{Client: c, Channel: channel, Suppressed: map[string]bool{}}
			if pClient.Valid {
				p.ClientID, p.Scope, p.RequestedBy, p.Active, p.ResumedBy = pClient.String, pScope.String, pBy.String, pActive.Bool, pResumedBy.String
				snap.Pause, snap.Paused = p, true
			}
			// The lookup by the client's address covers the key
			// IsSuppressed makes of it only when that key is exactly
			// what the SQL compared: the phone as stored, the email
			// lower-cased by the database (the same as Go's for ASCII).
			switch {
			case channel == vocab.SMS && c.Phone != "":
				snap.Suppressed[c.Phone] = supAddr
			case channel == vocab.Email && c.Email != "" && isASCII(c.Email):
				snap.Suppressed[asciiLower(c.Email)] = supAddr
			}
			if toKey != "" {
				snap.Suppressed[toKey] = supTo
			}
		}
		if seq.Valid {
			e.Seq = seq.Int64
			e.ClientID, e.Channel, e.Purpose = lClient.String, vocab.Channel(lChannel.String), vocab.Purpose(lPurpose.String)
			e.Action, e.Address, e.Source = store.ConsentAction(lAction.String), lAddress.String, lSource.String
			e.WordingVersion, e.EventID = lWording.String, lEvent.String
			snap.Ledger = append(snap.Ledger, e)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading the delivery snapshot of %s: %w", clientID, err)
	}
	if !found {
		return nil, fmt.Errorf("reading the delivery snapshot of %q: %w", clientID, store.ErrNotFound)
	}
	return snap, nil
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
