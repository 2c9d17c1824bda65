// Package staff is who a request acts for: the people who log in to the
// console (staff accounts with a role) and the machines that hold the API
// token. It holds the rules that are the same wherever they are used:
//
//   - passwords are hashed with Argon2id (RFC 9106 parameters) and compared
//     in constant time ([HashPassword], [VerifyPassword]);
//   - a session token is random, handed to the browser once and stored only
//     as its SHA-256 ([NewSessionToken], [HashToken]);
//   - after [LockAfter] failed logins an account waits, doubling each time
//     ([LoginBackoff]);
//   - an [Actor] travels in the request context so every audit row can name
//     the person (their email) or "api-token".
//
// The accounts and sessions themselves live in the store
// (store.StaffStore); the HTTP side (login, cookies, cross-origin checks)
// lives in internal/httpapi.
package staff
