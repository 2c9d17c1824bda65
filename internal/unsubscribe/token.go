// Package unsubscribe makes and reads the tokens of email unsubscribe links
// (<public URL>/u/<token>, also sent as the List-Unsubscribe header).
//
// A token says who may be unsubscribed from what: the client, the email
// address the message went to, and the purpose. It is sealed with
// AES-256-GCM under a key derived (HMAC-SHA256) from the server's secret:
//
//   - opaque: the link shows neither the client id nor the address to
//     whoever sees the URL (a mail gateway's log, a shared screen);
//   - signed: the GCM tag authenticates it, so a token cannot be forged or
//     altered without the secret, and a bad one is refused whole;
//   - not guessable: every token carries a fresh random nonce.
//
// Tokens do not expire: an unsubscribe link must keep working for as long
// as the email sits in someone's inbox. Changing the secret invalidates
// every link already sent.
package unsubscribe

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/nudgehq/nudge/internal/vocab"
)

// MinSecretLength is the shortest secret New accepts.
const MinSecretLength = 32

// ErrInvalidToken is returned for a token that was not made with this
// secret, was altered, or does not hold a usable claim.
var ErrInvalidToken = errors.New("unsubscribe: invalid token")

// Claim is what a token stands for.
type Claim struct {
	ClientID   string        `json:"c"`
	Address    string        `json:"a"` // the email address the message went to
	Purpose    vocab.Purpose `json:"p"`
	DeliveryID string        `json:"d,omitempty"` // the email that carried the link (for the record)
}

func (c Claim) valid() bool {
	return c.ClientID != "" && c.Address != "" && c.Purpose.Consentable()
}

// Sealer makes and opens tokens. It is safe for concurrent use.
type Sealer struct {
	aead cipher.AEAD
}

// New returns a Sealer keyed by secret (at least MinSecretLength bytes).
func New(secret []byte) (*Sealer, error) {
	if len(secret) < MinSecretLength {
		return nil, fmt.Errorf("unsubscribe: the secret must be at least %d bytes, got %d", MinSecretLength, len(secret))
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("nudge unsubscribe token v1"))
	block, err := aes.NewCipher(mac.Sum(nil))
	if err != nil {
		return nil, fmt.Errorf("unsubscribe: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("unsubscribe: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

// version is the token format's first byte, so the format can change
// without misreading old links.
const version byte = 1

// Token seals c into a URL-safe token.
func (s *Sealer) Token(c Claim) (string, error) {
	if !c.valid() {
		return "", fmt.Errorf("unsubscribe: claim needs a client, an address and a consent purpose")
	}
	plain, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("unsubscribe: %w", err)
	}
	buf := make([]byte, 1+s.aead.NonceSize(), 1+s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	buf[0] = version
	if _, err := rand.Read(buf[1:]); err != nil {
		return "", fmt.Errorf("unsubscribe: %w", err)
	}
	sealed := s.aead.Seal(buf, buf[1:], plain, buf[:1])
	return base64.RawURLEncoding.EncodeToString(sealed), nil
}

// Open returns the claim of a token made by Token with the same secret,
// or ErrInvalidToken.
func (s *Sealer) Open(token string) (Claim, error) {
	if len(token) > 2048 {
		return Claim{}, ErrInvalidToken
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	ns := s.aead.NonceSize()
	if err != nil || len(raw) < 1+ns+s.aead.Overhead() || raw[0] != version {
		return Claim{}, ErrInvalidToken
	}
	plain, err := s.aead.Open(nil, raw[1:1+ns], raw[1+ns:], raw[:1])
	if err != nil {
		return Claim{}, ErrInvalidToken
	}
	var c Claim
	if json.Unmarshal(plain, &c) != nil || !c.valid() {
		return Claim{}, ErrInvalidToken
	}
	return c, nil
}
