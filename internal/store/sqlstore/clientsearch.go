package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"unicode"

	"github.com/nudgehq/nudge/internal/store"
)

// likeEscaper escapes LIKE's wildcards in a search term (ESCAPE '\').
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// SearchClients matches id, first name and email prefixes and phone digits.
func (s *Store) SearchClients(ctx context.Context, q string, limit int) ([]store.Client, error) {
	if limit <= 0 {
		limit = 50
	}
	q = strings.ToLower(strings.TrimSpace(q))
	query := `SELECT id, first_name, timezone, phone, email, locale, preferred_channel, updated_at, created_at FROM clients`
	var args []any
	if q != "" {
		prefix := likeEscaper.Replace(q) + "%"
		query += ` WHERE lower(id) LIKE ? ESCAPE '\' OR lower(first_name) LIKE ? ESCAPE '\' OR lower(email) LIKE ? ESCAPE '\'`
		args = append(args, prefix, prefix, prefix)
		digits := strings.Map(func(r rune) rune {
			if unicode.IsDigit(r) {
				return r
			}
			return -1
		}, q)
		if len(digits) >= 3 {
			query += ` OR phone LIKE ?`
			args = append(args, "%"+digits+"%")
		}
	}
	query += ` ORDER BY updated_at DESC, id LIMIT ?`
	args = append(args, limit)
	rows, err := s.read.QueryContext(ctx, s.rebind(query), args...)
	if err != nil {
		return nil, fmt.Errorf("searching clients: %w", err)
	}
	defer rows.Close()
	var out []store.Client
	for rows.Next() {
		var c store.Client
		if err := rows.Scan(&c.ID, &c.FirstName, &c.Timezone, &c.Phone, &c.Email, &c.Locale, &c.PreferredChannel,
			scanTime(&c.UpdatedAt), scanTime(&c.CreatedAt)); err != nil {
			return nil, fmt.Errorf("searching clients: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
