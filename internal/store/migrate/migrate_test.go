package migrate

import (
	"errors"
	"io/fs"
	"slices"
	"testing"
)

// Every schema change must be written for both databases: the stores share
// one implementation and one conformance suite.
func TestDialectsShipTheSameMigrations(t *testing.T) {
	names := map[Dialect][]string{}
	for _, d := range []Dialect{Postgres, SQLite} {
		fsys, err := files(d)
		if err != nil {
			t.Fatal(err)
		}
		if names[d], err = fs.Glob(fsys, "*.sql"); err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(names[Postgres], names[SQLite]) {
		t.Fatalf("postgres migrations %v differ from sqlite migrations %v", names[Postgres], names[SQLite])
	}
	pg, err := Latest(Postgres)
	if err != nil || pg < 1 {
		t.Fatalf("Latest(Postgres) = %d, %v", pg, err)
	}
	if _, err := Latest("oracle"); err == nil {
		t.Fatal("Latest accepted an unknown dialect")
	}
}

func TestBehindError(t *testing.T) {
	for _, c := range []struct {
		err  *BehindError
		want string
	}{
		{&BehindError{Current: 1, Required: 3, Missing: []int64{2, 3}},
			"database schema is at version 1, nudge needs 3: run `nudge migrate up`"},
		{&BehindError{Current: 3, Required: 3, Missing: []int64{2}},
			"database schema lacks migrations [2] that nudge needs: run `nudge migrate up`"},
	} {
		if got := c.err.Error(); got != c.want {
			t.Errorf("Error() = %q, want %q", got, c.want)
		}
		if !errors.Is(c.err, ErrSchemaBehind) {
			t.Errorf("%v does not match ErrSchemaBehind", c.err)
		}
	}
}
