package staff

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are Argon2id cost parameters. They are written into every hash,
// so raising them later leaves existing hashes verifiable.
type Params struct {
	Time    uint32 // passes over memory
	Memory  uint32 // KiB
	Threads uint8
	SaltLen int
	KeyLen  uint32
}

// DefaultParams are RFC 9106's second recommended option (64 MiB, three
// passes, four lanes, 128-bit salt, 256-bit tag): memory-hard enough that a
// stolen table is expensive to attack, about a tenth of a second per login.
var DefaultParams = Params{Time: 3, Memory: 64 * 1024, Threads: 4, SaltLen: 16, KeyLen: 32}

// Password length bounds. The upper bound keeps a login from hashing a
// megabyte; a passphrase fits easily.
const (
	MinPasswordLen = 12
	MaxPasswordLen = 256
)

// ErrWeakPassword is returned for a password outside the length bounds.
var ErrWeakPassword = fmt.Errorf("a password must be %d to %d characters long", MinPasswordLen, MaxPasswordLen)

// hashSlots bounds how many hashes run at once: each takes Params.Memory,
// so a burst of logins cannot exhaust the machine's memory.
var hashSlots = make(chan struct{}, 4)

// HashPassword returns the password's Argon2id hash in the PHC string
// format ($argon2id$v=19$m=65536,t=3,p=4$salt$hash) with p's parameters.
func HashPassword(ctx context.Context, password string, p Params) (string, error) {
	if err := CheckPassword(password); err != nil {
		return "", err
	}
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("reading salt: %w", err)
	}
	key, err := derive(ctx, password, salt, p)
	if err != nil {
		return "", err
	}
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// CheckPassword reports whether password is acceptable for a new account.
func CheckPassword(password string) error {
	if n := len([]rune(password)); n < MinPasswordLen || len(password) > MaxPasswordLen {
		return ErrWeakPassword
	}
	return nil
}

// VerifyPassword reports whether password matches encoded (a HashPassword
// result). The comparison is constant time. A malformed hash is an error,
// never a match.
func VerifyPassword(ctx context.Context, encoded, password string) (bool, error) {
	if len(password) > MaxPasswordLen {
		return false, nil
	}
	p, salt, want, err := parseHash(encoded)
	if err != nil {
		return false, err
	}
	got, err := derive(ctx, password, salt, p)
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// DummyHash returns a hash with p's costs that no password matches. A
// login for an unknown account is verified against it, so it takes as
// long as one for a known account.
func DummyHash(p Params) string {
	h, _ := HashPassword(context.Background(), rand.Text()+rand.Text(), p)
	return h
}

func derive(ctx context.Context, password string, salt []byte, p Params) ([]byte, error) {
	select {
	case hashSlots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-hashSlots }()
	return argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen), nil
}

var errBadHash = errors.New("staff: malformed password hash")

func parseHash(encoded string) (Params, []byte, []byte, error) {
	parts := strings.Split(encoded, "$")
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, hash
	if len(parts) != 6 || parts[1] != "argon2id" {
		return Params{}, nil, nil, errBadHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return Params{}, nil, nil, errBadHash
	}
	var p Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return Params{}, nil, nil, errBadHash
	}
	// Refuse parameters no hash of ours has, so a tampered row cannot
	// make a login allocate gigabytes.
	if p.Time < 1 || p.Time > 10 || p.Memory < 8 || p.Memory > 1<<20 || p.Threads < 1 || p.Threads > 16 {
		return Params{}, nil, nil, errBadHash
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return Params{}, nil, nil, errBadHash
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > 64 {
		return Params{}, nil, nil, errBadHash
	}
	p.SaltLen, p.KeyLen = len(salt), uint32(len(key))
	return p, salt, key, nil
}

// GeneratePassword returns a random password that is shown once: 20
// characters of base32 (100 bits), easy to read out and type.
func GeneratePassword() string {
	t := rand.Text() // 26 base32 characters, 130 bits
	return strings.ToLower(t[:5] + "-" + t[5:10] + "-" + t[10:15] + "-" + t[15:20])
}
