package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/vocab"
)

// AppendConsent appends one ledger entry; nothing in nudge updates or
// deletes ledger rows, and the database refuses to (triggers).
//
// The entry's EventID defaults to ev.ID. It is unique per channel and
// purpose rather than globally, because one inbound STOP (one message id)
// revokes every purpose on its channel. A replayed EventID is
// ReasonDuplicate even when ev.ID is empty (the delivery engine records
// inbound replies that way). Entries with neither id are always appended.
//
// A grant without an address is bound to the client's current address on
// the channel, read in the same transaction. A revocation is always
// Applied: it is never stale. A grant that does not activate consent
// (older than a revocation, see store.CurrentConsent) is still appended,
// for the record, and reported as ReasonStale.
func (s *Store) AppendConsent(ctx context.Context, ev store.EventRef, e store.ConsentEntry) (store.Result, error) {
	if err := validConsent(e); err != nil {
		return store.Result{}, err
	}
	if e.EventID == "" {
		e.EventID = ev.ID
	}
	var (
		res store.Result
		err error
	)
	if ev.ID == "" {
		err = s.inTx(ctx, func(tx *sql.Tx) error {
			res, err = s.appendConsent(ctx, tx, e, s.eventTime(ev))
			return err
		})
	} else {
		res, err = s.applyEvent(ctx, ev, func(tx *sql.Tx, at time.Time) (store.Result, error) {
			return s.appendConsent(ctx, tx, e, at)
		})
	}
	if err != nil {
		return store.Result{}, fmt.Errorf("appending consent %s %s/%s for %s: %w", e.Action, e.Channel, e.Purpose, e.ClientID, err)
	}
	return res, nil
}

func validConsent(e store.ConsentEntry) error {
	if err := required("client id", e.ClientID); err != nil {
		return err
	}
	if err := validChannel(e.Channel); err != nil {
		return err
	}
	if err := validPurpose(e.Purpose); err != nil {
		return err
	}
	if e.Action != store.ConsentGranted && e.Action != store.ConsentRevoked {
		return invalid("unknown consent action %q", e.Action)
	}
	return nil
}

// appendConsent binds, inserts and reports whether the entry decides the
// current state. eventTime stands in for a missing OccurredAt.
func (s *Store) appendConsent(ctx context.Context, tx *sql.Tx, e store.ConsentEntry, eventTime time.Time) (store.Result, error) {
	if !e.OccurredAt.IsZero() {
		e.OccurredAt = normTime(e.OccurredAt)
	} else {
		e.OccurredAt = eventTime
	}
	if e.Action == store.ConsentGranted && e.Address == "" {
		if err := s.lockClient(ctx, tx, e.ClientID); err != nil {
			return store.Result{}, err
		}
		addr, err := s.clientAddress(ctx, tx, e.ClientID, e.Channel)
		if err != nil {
			return store.Result{}, err
		}
		e.Address = addr
	}
	e.Address = store.NormalizeAddress(e.Channel, e.Address)
	created, err := s.insertConsent(ctx, tx, e)
	if err != nil {
		return store.Result{}, err
	}
	if !created {
		return store.Result{Reason: store.ReasonDuplicate}, nil
	}
	if e.Action == store.ConsentRevoked {
		return store.Result{Applied: true}, nil
	}
	ledger, err := s.ledger(ctx, tx, e.ClientID)
	if err != nil {
		return store.Result{}, err
	}
	if st, _ := store.CurrentConsent(ledger, e.Channel, e.Purpose, e.Address); !st.Active {
		return store.Result{Reason: store.ReasonStale}, nil
	}
	return store.Result{Applied: true}, nil
}

// insertConsent appends e unless its event id is recorded for its channel
// and purpose; created reports whether it did.
func (s *Store) insertConsent(ctx context.Context, q querier, e store.ConsentEntry) (bool, error) {
	var seq int64
	err := q.QueryRowContext(ctx, s.rebind(`
		INSERT INTO consent_ledger (client_id, channel, purpose, action, address, source, wording_version, event_id, occurred_at, recorded_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (event_id, channel, purpose) DO NOTHING
		RETURNING seq`),
		e.ClientID, e.Channel, e.Purpose, string(e.Action), e.Address, e.Source, e.WordingVersion,
		sql.NullString{String: e.EventID, Valid: e.EventID != ""}, s.bindTime(e.OccurredAt), s.bindTime(s.nowUTC())).
		Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// lockClient holds the dialect's per-client lock until tx ends.
func (s *Store) lockClient(ctx context.Context, tx *sql.Tx, clientID string) error {
	if s.dialect.LockClient == "" {
		return nil
	}
	if _, err := tx.ExecContext(ctx, s.rebind(s.dialect.LockClient), clientID); err != nil {
		return fmt.Errorf("locking client %s: %w", clientID, err)
	}
	return nil
}

// clientAddress is the client's current address on ch, "" when the client
// is unknown or has none.
func (s *Store) clientAddress(ctx context.Context, q querier, clientID string, ch vocab.Channel) (string, error) {
	var phone, email string
	if snap := s.fromSnapshot(ctx, q, clientID); snap != nil {
		phone, email = snap.Client.Phone, snap.Client.Email
		if ch == vocab.Email {
			return store.NormalizeAddress(ch, email), nil
		}
		return phone, nil
	}
	err := q.QueryRowContext(ctx, s.rebind(`SELECT phone, email FROM clients WHERE id = ?`), clientID).Scan(&phone, &email)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("reading the address of %s: %w", clientID, err)
	case ch == vocab.Email:
		return store.NormalizeAddress(ch, email), nil
	default:
		return phone, nil
	}
}

// bindConsent gives a client's grants that were recorded before it had an
// address on ch (address "") to address, its first one, by appending a
// bound copy of each purpose's deciding grant: the ledger is append-only.
// The copies' event ids derive from the event that set the address, so a
// replay binds nothing twice.
func (s *Store) bindConsent(ctx context.Context, tx *sql.Tx, clientID string, ch vocab.Channel, address, cause string) error {
	ledger, err := s.ledger(ctx, tx, clientID)
	if err != nil {
		return err
	}
	for _, p := range vocab.ConsentPurposes() {
		unbound, ok := store.CurrentConsent(ledger, ch, p, "")
		if !ok || !unbound.Active {
			continue
		}
		_, err := s.insertConsent(ctx, tx, store.ConsentEntry{
			ClientID: clientID, Channel: ch, Purpose: p, Action: store.ConsentGranted,
			Address: store.NormalizeAddress(ch, address), Source: unbound.Source, WordingVersion: unbound.WordingVersion,
			EventID: "bind:" + cause, OccurredAt: unbound.Since,
		})
		if err != nil {
			return fmt.Errorf("binding %s/%s consent of %s: %w", ch, p, clientID, err)
		}
	}
	return nil
}

// ConsentLedger returns the client's entries in the order they were
// recorded, the order store.CurrentConsent folds them in.
func (s *Store) ConsentLedger(ctx context.Context, clientID string) ([]store.ConsentEntry, error) {
	return s.ledger(ctx, s.read, clientID)
}

func (s *Store) ledger(ctx context.Context, q querier, clientID string) ([]store.ConsentEntry, error) {
	if snap := s.fromSnapshot(ctx, q, clientID); snap != nil {
		return slices.Clone(snap.Ledger), nil
	}
	rows, err := q.QueryContext(ctx, s.rebind(`
		SELECT seq, client_id, channel, purpose, action, address, source, wording_version, event_id, occurred_at, recorded_at
		FROM consent_ledger WHERE client_id = ?
		ORDER BY seq`), clientID)
	if err != nil {
		return nil, fmt.Errorf("reading consent ledger of %s: %w", clientID, err)
	}
	defer rows.Close()
	var out []store.ConsentEntry
	for rows.Next() {
		var (
			e       store.ConsentEntry
			action  string
			eventID sql.NullString
		)
		err := rows.Scan(&e.Seq, &e.ClientID, &e.Channel, &e.Purpose, &action, &e.Address, &e.Source, &e.WordingVersion,
			&eventID, scanTime(&e.OccurredAt), scanTime(&e.RecordedAt))
		if err != nil {
			return nil, fmt.Errorf("reading consent ledger of %s: %w", clientID, err)
		}
		e.Action, e.EventID = store.ConsentAction(action), eventID.String
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading consent ledger of %s: %w", clientID, err)
	}
	return out, nil
}

// Consents folds the ledger into the current state per channel and
// purpose, for the client's current address on each channel. Ledgers are
// short (a handful of entries per client), so folding in Go keeps the rule
// in one readable place (store.CurrentConsent).
func (s *Store) Consents(ctx context.Context, clientID string) ([]store.ConsentState, error) {
	ledger, err := s.ConsentLedger(ctx, clientID)
	if err != nil {
		return nil, err
	}
	addr := map[vocab.Channel]string{}
	for _, ch := range vocab.Channels() {
		if addr[ch], err = s.clientAddress(ctx, s.read, clientID, ch); err != nil {
			return nil, err
		}
	}
	type key struct {
		channel vocab.Channel
		purpose vocab.Purpose
	}
	seen := map[key]bool{}
	var out []store.ConsentState
	for _, e := range ledger {
		k := key{e.Channel, e.Purpose}
		if seen[k] {
			continue
		}
		seen[k] = true
		st, ok := store.CurrentConsent(ledger, e.Channel, e.Purpose, addr[e.Channel])
		if !ok {
			continue // entries only for other addresses: nothing said about this one
		}
		out = append(out, st)
	}
	slices.SortFunc(out, func(a, b store.ConsentState) int {
		return cmp.Or(cmp.Compare(a.Channel, b.Channel), cmp.Compare(a.Purpose, b.Purpose))
	})
	return out, nil
}

// HasConsent reports whether consent is active for the client's current
// address on channel.
func (s *Store) HasConsent(ctx context.Context, clientID string, channel vocab.Channel, purpose vocab.Purpose) (bool, error) {
	if err := required("client id", clientID, "channel", string(channel), "purpose", string(purpose)); err != nil {
		return false, err
	}
	addr, err := s.clientAddress(ctx, s.read, clientID, channel)
	if err != nil {
		return false, err
	}
	ledger, err := s.ConsentLedger(ctx, clientID)
	if err != nil {
		return false, fmt.Errorf("checking %s/%s consent of %s: %w", channel, purpose, clientID, err)
	}
	// A client without an address on the channel (or not stored yet) has
	// the grants not bound to any address: nothing can be sent to it
	// until it has one, and then they are bound to it.
	st, _ := store.CurrentConsent(ledger, channel, purpose, addr)
	return st.Active, nil
}

// HasConsentAt reports whether consent is active for address.
func (s *Store) HasConsentAt(ctx context.Context, clientID string, channel vocab.Channel, purpose vocab.Purpose, address string) (bool, error) {
	if err := required("client id", clientID, "channel", string(channel), "purpose", string(purpose), "address", address); err != nil {
		return false, err
	}
	ledger, err := s.ConsentLedger(ctx, clientID)
	if err != nil {
		return false, fmt.Errorf("checking %s/%s consent of %s: %w", channel, purpose, clientID, err)
	}
	st, _ := store.CurrentConsent(ledger, channel, purpose, address)
	return st.Active, nil
}
