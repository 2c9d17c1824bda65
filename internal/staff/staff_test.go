package staff

import (
	"context"
	"strings"
	"testing"
	"time"
)

// cheap keeps the tests fast; the format and the checks are the same.
var cheap = Params{Time: 1, Memory: 64, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestPasswordHashAndVerify(t *testing.T) {
	ctx := context.Background()
	h, err := HashPassword(ctx, "correct horse battery", cheap)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("hash %q is not an argon2id PHC string", h)
	}
	if ok, err := VerifyPassword(ctx, h, "correct horse battery"); !ok || err != nil {
		t.Fatalf("right password: %v, %v", ok, err)
	}
	if ok, err := VerifyPassword(ctx, h, "correct horse batterY"); ok || err != nil {
		t.Fatalf("wrong password: %v, %v", ok, err)
	}
	h2, _ := HashPassword(ctx, "correct horse battery", cheap)
	if h == h2 {
		t.Fatal("two hashes of one password are equal: the salt is not random")
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA", h[:len(h)-10] + "!!"} {
		if ok, err := VerifyPassword(ctx, bad, "correct horse battery"); ok || err == nil {
			t.Errorf("VerifyPassword(%q) = %v, %v; want an error", bad, ok, err)
		}
	}
}

func TestDefaultParamsAreSound(t *testing.T) {
	// RFC 9106 §4: at least 64 MiB with t=3, or 2 GiB with t=1.
	if DefaultParams.Memory < 64*1024 || DefaultParams.Time < 3 || DefaultParams.SaltLen < 16 || DefaultParams.KeyLen < 32 {
		t.Fatalf("DefaultParams %+v are weaker than RFC 9106's second recommendation", DefaultParams)
	}
}

func TestPasswordLength(t *testing.T) {
	if _, err := HashPassword(context.Background(), "short", cheap); err != ErrWeakPassword {
		t.Errorf("short password: %v", err)
	}
	if _, err := HashPassword(context.Background(), strings.Repeat("x", MaxPasswordLen+1), cheap); err != ErrWeakPassword {
		t.Errorf("long password: %v", err)
	}
	if err := CheckPassword(GeneratePassword()); err != nil {
		t.Errorf("a generated password is refused: %v", err)
	}
	if GeneratePassword() == GeneratePassword() {
		t.Error("generated passwords repeat")
	}
}

func TestSessionToken(t *testing.T) {
	tok, h := NewSessionToken()
	if len(tok) < 40 || h != HashToken(tok) || strings.Contains(h, tok) || len(h) != 64 {
		t.Fatalf("token %q hash %q", tok, h)
	}
	tok2, _ := NewSessionToken()
	if tok == tok2 {
		t.Fatal("tokens repeat")
	}
}

func TestLoginBackoff(t *testing.T) {
	want := map[int]time.Duration{0: 0, 4: 0, 5: 30 * time.Second, 6: time.Minute, 7: 2 * time.Minute, 10: 15 * time.Minute, 50: 15 * time.Minute}
	for n, d := range want {
		if got := LoginBackoff(n); got != d {
			t.Errorf("LoginBackoff(%d) = %v, want %v", n, got, d)
		}
	}
}

func TestNormalizeEmail(t *testing.T) {
	for in, want := range map[string]string{" Ada@Example.COM ": "ada@example.com", "admin@localhost": "admin@localhost"} {
		if got, ok := NormalizeEmail(in); !ok || got != want {
			t.Errorf("NormalizeEmail(%q) = %q, %v", in, got, ok)
		}
	}
	for _, bad := range []string{"", "ada", "Ada <ada@example.com>", "a@b@c", "@example.com", "ada@", "a da@example.com"} {
		if _, ok := NormalizeEmail(bad); ok {
			t.Errorf("NormalizeEmail(%q) accepted", bad)
		}
	}
}

func TestActor(t *testing.T) {
	if _, ok := ActorFrom(context.Background()); ok {
		t.Fatal("an empty context has an actor")
	}
	ctx := WithActor(context.Background(), Actor{Email: "ada@example.com", Role: RoleStaff})
	a, ok := ActorFrom(ctx)
	if !ok || a.Name() != "ada@example.com" || a.IsAdmin() || !a.IsPerson() {
		t.Fatalf("actor %+v", a)
	}
	if Token.Name() != "api-token" || !Token.IsAdmin() || Token.IsPerson() {
		t.Fatalf("token actor %+v", Token)
	}
}
