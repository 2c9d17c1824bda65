package sqlstore

import "time"

// SchemaPolicy says what opening a store does about the database schema.
type SchemaPolicy int

const (
	// MigrateOnOpen applies pending migrations before the store is used
	// (`nudge dev`, `nudge serve`). It is the default.
	MigrateOnOpen SchemaPolicy = iota
	// RequireCurrent does not migrate and fails to open, with an error
	// matching migrate.ErrSchemaBehind, when migrations are pending
	// (`nudge serve --no-migrate`).
	RequireCurrent
	// SkipSchemaCheck opens without looking at the schema. Meant for
	// `nudge migrate up|status`, which manage the schema themselves.
	SkipSchemaCheck
)

// Option configures a store opened by postgres.Open or sqlite.Open.
type Option func(*config)

type config struct {
	schema SchemaPolicy
	now    func() time.Time
}

// WithSchema sets what opening does about pending migrations.
func WithSchema(p SchemaPolicy) Option {
	return func(c *config) { c.schema = p }
}

// WithClock replaces time.Now for the timestamps the store sets itself
// (CreatedAt, RecordedAt, AppliedAt, ...), so tests and dev mode driven by a
// fake clock see consistent times.
func WithClock(now func() time.Time) Option {
	return func(c *config) {
		if now != nil {
			c.now = now
		}
	}
}
