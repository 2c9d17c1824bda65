package staff

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"time"
)

// DefaultSessionTTL is how long a console login lasts: a working day.
const DefaultSessionTTL = 12 * time.Hour

// NewSessionToken returns a new session token for the browser's cookie
// (256 random bits) and the hash the store keeps instead of it.
func NewSessionToken() (token, hash string) {
	raw := make([]byte, 32)
	_, _ = rand.Read(raw) // crypto/rand.Read never fails
	token = base64.RawURLEncoding.EncodeToString(raw)
	return token, HashToken(token)
}

// HashToken is the SHA-256 of a session token, hex encoded: what the store
// keeps, so a copy of the database does not hold usable sessions. A plain
// hash suffices: the token is random, not a password.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
