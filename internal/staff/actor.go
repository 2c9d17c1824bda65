package staff

import "context"

// Role is what a staff account may do.
type Role string

const (
	// RoleStaff announces, pauses and resumes clients, resolves inbox items
	// and replays dead letters.
	RoleStaff Role = "staff"
	// RoleAdmin also manages staff accounts and may override the
	// announcement lint.
	RoleAdmin Role = "admin"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleStaff || r == RoleAdmin }

// TokenActor is the name audit rows give requests made with the API token.
const TokenActor = "api-token"

// Actor is who a request acts for: a logged-in staff member, or a machine
// with the API token (Email empty).
type Actor struct {
	Email string
	Role  Role
}

// Token is the actor of API-token requests. The token is the operator's
// key: it may do what an admin may.
var Token = Actor{Role: RoleAdmin}

// Name is how audit rows name the actor: the staff member's email, or
// "api-token".
func (a Actor) Name() string {
	if a.Email == "" {
		return TokenActor
	}
	return a.Email
}

// IsAdmin reports whether the actor may do admin things.
func (a Actor) IsAdmin() bool { return a.Role == RoleAdmin }

// IsPerson reports whether the actor is a logged-in staff member rather
// than the API token.
func (a Actor) IsPerson() bool { return a.Email != "" }

type actorKey struct{}

// WithActor returns ctx carrying a.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor ctx carries; ok is false for requests that
// were never authenticated.
func ActorFrom(ctx context.Context) (a Actor, ok bool) {
	a, ok = ctx.Value(actorKey{}).(Actor)
	return a, ok
}
