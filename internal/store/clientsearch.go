package store

import "context"

// ClientSearch finds clients for the staff console.
type ClientSearch interface {
	// SearchClients returns up to limit (0 means 50) clients whose id,
	// first name or email starts with q, or whose phone contains q's
	// digits, case-insensitively; most recently updated first. An empty
	// q lists the most recently updated clients.
	SearchClients(ctx context.Context, q string, limit int) ([]Client, error)
}
