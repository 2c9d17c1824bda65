package templates

import (
	"bufio"
	"bytes"
	"slices"
	"strings"
)

// The seven themes of the encouragement library: the practice's own voice
// (PRODUCT.md). A line file tags its lines with a "# theme: <name>" comment
// before them; lines before any tag belong to no theme and are used only
// when a client's rotation is not narrowed to themes.
const (
	ThemeWound          = "wound"           // understand where the wound came from
	ThemeTherapy        = "therapy"         // therapy helps
	ThemeSupport        = "support"         // lean on a support system
	ThemeBoundaries     = "boundaries"      // detach in a healthy way, with boundaries
	ThemePatience       = "patience"        // progress is not linear
	ThemeSelfSoothing   = "self_soothing"   // learn to self-soothe
	ThemeSelfCompassion = "self_compassion" // practise self-compassion
)

// Themes lists the seven themes in the library's order.
func Themes() []string {
	return []string{ThemeWound, ThemeTherapy, ThemeSupport, ThemeBoundaries, ThemePatience, ThemeSelfSoothing, ThemeSelfCompassion}
}

// Line is one line of a line library with the theme it was tagged with.
type Line struct {
	Theme string // one of Themes, or "" when untagged
	Text  string
}

// ThemedLines is Lines with each line's theme: the library for kind in the
// first locale on locale's fallback path that has one, or nil.
func (s *Set) ThemedLines(kind, locale string) []Line {
	for _, l := range localeFallbacks(locale) {
		if lf, ok := s.lines[linesKey{kind, l}]; ok {
			return slices.Clone(lf.themed)
		}
	}
	return nil
}

// parseThemedLines reads a line library: one line a message, blank lines
// and comments skipped, "# theme: <name>" tagging the lines after it.
func parseThemedLines(src []byte) []Line {
	var out []Line
	theme := ""
	sc := bufio.NewScanner(bytes.NewReader(src))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if rest, ok := strings.CutPrefix(line, "#"); ok {
			if name, ok := strings.CutPrefix(strings.TrimSpace(rest), "theme:"); ok {
				theme = strings.TrimSpace(name)
			}
			continue
		}
		if line == "" {
			continue
		}
		out = append(out, Line{Theme: theme, Text: line})
	}
	return out
}
