package encouragement

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/nudgehq/nudge/consumers"
	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/templates"
)

// Rotation chooses each encouragement's line at send time (a
// consumers.Content for the encouragement kind): from the client's
// locale's library, narrowed to the client's themes, never a line the
// client has had in the current round, and never the line they had last
// when a new round starts. A pick is kept per notification key, so a retry
// of the same notification says the same; a notification that was then
// skipped or failed does not use its line up.
type Rotation struct {
	Store     store.Store
	Templates *templates.Set
}

var _ consumers.Content = (*Rotation)(nil)

// pickHistory is how many of a client's picks the rotation reads: more
// than any library has lines.
const pickHistory = 500

// Vars implements consumers.Content: {"Message": the line}.
func (r *Rotation) Vars(ctx context.Context, n consumers.Notification, t consumers.Target) (map[string]any, error) {
	if n.ClientID == "" {
		return nil, fmt.Errorf("encouragement %s has no client", n.Key)
	}
	p, err := r.Pick(ctx, n.ClientID, n.Key, t.Client.Locale)
	if err != nil {
		return nil, err
	}
	return map[string]any{"Message": p.Line}, nil
}

// Pick returns the line for the notification key, choosing it if it has
// none yet.
func (r *Rotation) Pick(ctx context.Context, clientID, key, locale string) (store.LinePick, error) {
	picks, err := r.Store.LinePicks(ctx, clientID, pickHistory)
	if err != nil {
		return store.LinePick{}, fmt.Errorf("reading line picks of %s: %w", clientID, err)
	}
	for _, p := range picks {
		if p.Key == key {
			return p, nil
		}
	}
	var themes []string
	sch, err := r.Store.GetEncouragementSchedule(ctx, clientID)
	switch {
	case err == nil:
		themes = sch.Themes
	case !errors.Is(err, store.ErrNotFound):
		return store.LinePick{}, fmt.Errorf("reading encouragement schedule of %s: %w", clientID, err)
	}
	library := narrow(r.Templates.ThemedLines(templates.KindEncouragement, locale), themes)
	if len(library) == 0 {
		return store.LinePick{}, consumers.Permanent(fmt.Errorf("no encouragement lines for locale %q", locale))
	}
	line, cycle := next(library, counted(picks))
	stored, _, err := r.Store.RecordLinePick(ctx, store.LinePick{
		Key: key, ClientID: clientID, Line: line.Text, Theme: line.Theme, Cycle: cycle,
	})
	if err != nil {
		return store.LinePick{}, err
	}
	return stored, nil
}

// narrow keeps the lines of themes; all lines when themes is empty or
// nothing in the library matches them.
func narrow(lines []templates.Line, themes []string) []templates.Line {
	if len(themes) == 0 {
		return lines
	}
	var out []templates.Line
	for _, l := range lines {
		if slices.Contains(themes, l.Theme) {
			out = append(out, l)
		}
	}
	if len(out) == 0 {
		return lines
	}
	return out
}

// counted are the picks that used their line: sent, on the way, or not
// yet decided (newest first). Skipped and failed notifications said
// nothing to the client.
func counted(picks []store.LinePick) []store.LinePick {
	var out []store.LinePick
	for _, p := range picks {
		if p.DeliveryState != store.DeliverySkipped && p.DeliveryState != store.DeliveryFailed {
			out = append(out, p)
		}
	}
	return out
}

// next chooses a line the current round has not used; when the round has
// used every line, a new round starts without the line said last.
func next(library []templates.Line, used []store.LinePick) (templates.Line, int) {
	cycle := 1
	if len(used) > 0 {
		cycle = used[0].Cycle
	}
	said := map[string]bool{}
	for _, p := range used {
		if p.Cycle == cycle {
			said[p.Line] = true
		}
	}
	var fresh []templates.Line
	for _, l := range library {
		if !said[l.Text] {
			fresh = append(fresh, l)
		}
	}
	if len(fresh) == 0 {
		cycle++
		for _, l := range library {
			if len(library) == 1 || l.Text != used[0].Line {
				fresh = append(fresh, l)
			}
		}
	}
	return fresh[rand.IntN(len(fresh))], cycle
}
