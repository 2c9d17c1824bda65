package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/vocab"
)

// ApplyGroupUpsert names a group, ordered by event time like client
// upserts: an older name never overwrites a newer one.
func (s *Store) ApplyGroupUpsert(ctx context.Context, ev store.EventRef, g store.Group) (store.Result, error) {
	if err := required("group id", g.ID, "group name", g.Name); err != nil {
		return store.Result{}, err
	}
	res, err := s.applyEvent(ctx, ev, func(tx *sql.Tx, at time.Time) (store.Result, error) {
		upserted, err := tx.ExecContext(ctx, s.rebind(`
			INSERT INTO support_groups (id, name, updated_at, created_at)
			VALUES (?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET
				name = excluded.name,
				updated_at = excluded.updated_at
			WHERE support_groups.updated_at < excluded.updated_at`),
			g.ID, g.Name, s.bindTime(at), s.bindTime(s.nowUTC()))
		if err != nil {
			return store.Result{}, err
		}
		if n, err := upserted.RowsAffected(); err != nil {
			return store.Result{}, err
		} else if n == 0 {
			return store.Result{Reason: store.ReasonStale}, nil
		}
		return store.Result{Applied: true}, nil
	})
	if err != nil {
		return store.Result{}, fmt.Errorf("applying group upsert %s for %s: %w", ev.ID, g.ID, err)
	}
	return res, nil
}

// groupsQuery lists groups that have a name, members, or both, with their
// active member count.
const groupsQuery = `
	SELECT ids.id, COALESCE(g.name, ''), g.updated_at,
		(SELECT count(*) FROM group_memberships m WHERE m.group_id = ids.id AND m.active = ?)
	FROM (SELECT id FROM support_groups UNION SELECT group_id FROM group_memberships) ids
	LEFT JOIN support_groups g ON g.id = ids.id`

func (s *Store) scanGroups(rows *sql.Rows) ([]store.Group, error) {
	defer rows.Close()
	var out []store.Group
	for rows.Next() {
		var g store.Group
		if err := rows.Scan(&g.ID, &g.Name, scanTime(&g.UpdatedAt), &g.MemberCount); err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// ListGroups returns every group, by id.
func (s *Store) ListGroups(ctx context.Context) ([]store.Group, error) {
	rows, err := s.read.QueryContext(ctx, s.rebind(groupsQuery+` ORDER BY ids.id`), true)
	if err != nil {
		return nil, fmt.Errorf("listing groups: %w", err)
	}
	out, err := s.scanGroups(rows)
	if err != nil {
		return nil, fmt.Errorf("listing groups: %w", err)
	}
	return out, nil
}

// GetGroup returns one group.
func (s *Store) GetGroup(ctx context.Context, id string) (store.Group, error) {
	rows, err := s.read.QueryContext(ctx, s.rebind(groupsQuery+` WHERE ids.id = ?`), true, id)
	if err != nil {
		return store.Group{}, fmt.Errorf("getting group %q: %w", id, err)
	}
	out, err := s.scanGroups(rows)
	if err != nil {
		return store.Group{}, fmt.Errorf("getting group %q: %w", id, err)
	}
	if len(out) == 0 {
		return store.Group{}, fmt.Errorf("getting group %q: %w", id, store.ErrNotFound)
	}
	return out[0], nil
}

// GroupMembersAfter pages through a group's active members by client id.
func (s *Store) GroupMembersAfter(ctx context.Context, groupID, after string, limit int) ([]string, error) {
	if limit <= 0 {
		limit = 1000
	}
	return s.memberIDs(ctx, groupID, `
		SELECT client_id FROM group_memberships
		WHERE group_id = ? AND active = ? AND client_id > ?
		ORDER BY client_id LIMIT ?`, groupID, true, after, limit)
}

// placeholders returns "?, ?, …" for n values.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

func anySlice(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// Audience reads profiles, the purpose's consent, care pauses and
// suppressions for many clients in a few queries. Consent is decided by
// the one rule, store.CurrentConsent, for the client's current address.
func (s *Store) Audience(ctx context.Context, clientIDs []string, purpose vocab.Purpose) ([]store.AudienceMember, error) {
	if err := validPurpose(purpose); err != nil {
		return nil, err
	}
	out := make([]store.AudienceMember, len(clientIDs))
	index := make(map[string]int, len(clientIDs))
	for i, id := range clientIDs {
		out[i] = store.AudienceMember{ClientID: id, Consent: map[vocab.Channel]store.ConsentState{}, Suppressed: map[vocab.Channel]bool{}}
		index[id] = i
	}
	if len(clientIDs) == 0 {
		return out, nil
	}
	fail := func(err error) ([]store.AudienceMember, error) {
		return nil, fmt.Errorf("reading audience of %d clients: %w", len(clientIDs), err)
	}

	rows, err := s.read.QueryContext(ctx, s.rebind(`
		SELECT id, first_name, timezone, phone, email, locale, preferred_channel, updated_at, created_at
		FROM clients WHERE id IN (`+placeholders(len(clientIDs))+`)`), anySlice(clientIDs)...)
	if err != nil {
		return fail(err)
	}
	var phones, emails []string
	for rows.Next() {
		var c store.Client
		if err := rows.Scan(&c.ID, &c.FirstName, &c.Timezone, &c.Phone, &c.Email, &c.Locale, &c.PreferredChannel,
			scanTime(&c.UpdatedAt), scanTime(&c.CreatedAt)); err != nil {
			rows.Close()
			return fail(err)
		}
		m := &out[index[c.ID]]
		m.Known, m.Client = true, c
		if c.Phone != "" {
			phones = append(phones, c.Phone)
		}
		if c.Email != "" {
			emails = append(emails, strings.ToLower(c.Email))
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fail(err)
	}

	rows, err = s.read.QueryContext(ctx, s.rebind(`
		SELECT seq, client_id, channel, purpose, action, address, source, wording_version, occurred_at
		FROM consent_ledger WHERE purpose = ? AND client_id IN (`+placeholders(len(clientIDs))+`)
		ORDER BY seq`), append([]any{string(purpose)}, anySlice(clientIDs)...)...)
	if err != nil {
		return fail(err)
	}
	ledgers := map[string][]store.ConsentEntry{}
	for rows.Next() {
		var e store.ConsentEntry
		var action string
		if err := rows.Scan(&e.Seq, &e.ClientID, &e.Channel, &e.Purpose, &action, &e.Address, &e.Source, &e.WordingVersion,
			scanTime(&e.OccurredAt)); err != nil {
			rows.Close()
			return fail(err)
		}
		e.Action = store.ConsentAction(action)
		ledgers[e.ClientID] = append(ledgers[e.ClientID], e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fail(err)
	}
	// The one consent rule (store.CurrentConsent), for the address the
	// client has now on each channel.
	for i := range out {
		m := &out[i]
		for _, ch := range vocab.Channels() {
			addr := m.Client.Phone
			if ch == vocab.Email {
				addr = m.Client.Email
			}
			if cs, ok := store.CurrentConsent(ledgers[m.ClientID], ch, purpose, addr); ok {
				m.Consent[ch] = cs
			}
		}
	}

	rows, err = s.read.QueryContext(ctx, s.rebind(`SELECT `+carePauseColumns+` FROM care_pauses WHERE client_id IN (`+
		placeholders(len(clientIDs))+`)`), anySlice(clientIDs)...)
	if err != nil {
		return fail(err)
	}
	for rows.Next() {
		var p store.CarePause
		if err := rows.Scan(&p.ClientID, &p.Scope, scanTime(&p.Until), &p.RequestedBy, scanTime(&p.Since), &p.Active,
			&p.ResumedBy, scanTime(&p.UpdatedAt)); err != nil {
			rows.Close()
			return fail(err)
		}
		out[index[p.ClientID]].CarePause = &p
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fail(err)
	}

	if len(phones)+len(emails) == 0 {
		return out, nil
	}
	blocked := map[string]bool{} // channel + " " + address
	for _, q := range []struct {
		channel vocab.Channel
		addrs   []string
	}{{vocab.SMS, phones}, {vocab.Email, emails}} {
		if len(q.addrs) == 0 {
			continue
		}
		rows, err := s.read.QueryContext(ctx, s.rebind(`
			SELECT address FROM suppressions WHERE channel = ? AND address IN (`+placeholders(len(q.addrs))+`)`),
			append([]any{q.channel}, anySlice(q.addrs)...)...)
		if err != nil {
			return fail(err)
		}
		for rows.Next() {
			var a string
			if err := rows.Scan(&a); err != nil {
				rows.Close()
				return fail(err)
			}
			blocked[string(q.channel)+" "+a] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fail(err)
		}
	}
	for i := range out {
		c := out[i].Client
		if c.Phone != "" && blocked[string(vocab.SMS)+" "+c.Phone] {
			out[i].Suppressed[vocab.SMS] = true
		}
		if c.Email != "" && blocked[string(vocab.Email)+" "+strings.ToLower(c.Email)] {
			out[i].Suppressed[vocab.Email] = true
		}
	}
	return out, nil
}
