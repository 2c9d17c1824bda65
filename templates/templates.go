package templates

import (
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io"
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"text/template"
	"text/template/parse"

	"github.com/nudgehq/nudge/internal/vocab"
)

// Kinds of message shipped with nudge. Overrides may add their own kinds
// (a practice's named announcement templates, say) by file name alone.
const (
	KindReminder            = "reminder"
	KindBooked              = "booked"
	KindEncouragement       = "encouragement"
	KindJournalNudge        = "journal_nudge"
	KindAnnouncement        = "announcement"
	KindConfirmed           = "confirmed"
	KindRescheduleRequested = "reschedule_requested"
	KindHelp                = "help"
	KindOptedOut            = "opted_out"
	KindResubscribed        = "resubscribed"
	KindCrisis              = "crisis"
	// KindCrisisAlert goes to on-call staff, not to a client: it says a
	// message needs urgent attention and links to it, never what it says
	// or who sent it.
	KindCrisisAlert = "crisis_alert"
	// KindOptInRequest asks a client who texted the encouragement keyword
	// to reply YES (double opt-in); KindOptInWelcome confirms the opt-in.
	KindOptInRequest = "optin_request"
	KindOptInWelcome = "optin_welcome"
)

// FallbackLocale is the last locale tried by Render and Lines; every kind
// should exist in it.
const FallbackLocale = "en"

var (
	// ErrNotFound is returned by Render when no locale on the fallback path
	// has a template for the kind and channel.
	ErrNotFound = errors.New("templates: no template")
	// ErrMissingVar is returned by Render when vars lacks a variable the
	// template refers to (or holds nil for it). A missing variable is never
	// rendered as an empty string.
	ErrMissingVar = errors.New("templates: missing variable")
)

// Message is a rendered message. For SMS only Text is set; for email
// Subject, Text (the plain-text part) and HTML are.
type Message struct {
	Channel vocab.Channel
	Subject string
	Text    string
	HTML    string
}

// Set is a parsed collection of templates and line libraries. Build one with
// Load; a Set is read-only afterwards and safe for concurrent use.
type Set struct {
	parts map[partKey]*part
	lines map[linesKey]linesFile
}

// Template parts, as they appear in file names: <kind>.<locale>.<part>.tmpl.
const (
	partSMS          = "sms"
	partEmailSubject = "email.subject"
	partEmailText    = "email.txt"
	partEmailHTML    = "email.html"
)

var emailParts = []string{partEmailSubject, partEmailText, partEmailHTML}

type partKey struct{ kind, locale, part string }

type part struct {
	file   string // file name, e.g. "reminder.en.sms.tmpl"
	origin string // "default" or "override"
	vars   []string
	exec   func(w io.Writer, data any) error
}

type linesKey struct{ kind, locale string }

type linesFile struct {
	file   string
	lines  []string
	themed []Line
}

//go:embed defaults
var embedded embed.FS

var (
	kindPattern   = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	localePattern = regexp.MustCompile(`^[a-z]{2,3}(-[a-z0-9]{2,8})*$`)
)

// Load parses the templates embedded in nudge and then those in override (a
// practice's template directory, typically os.DirFS; nil for none). A file in
// the root of override replaces the embedded file of the same name, or adds a
// kind or locale. Files are named <kind>.<locale>.sms.tmpl for SMS (text
// template), <kind>.<locale>.email.subject.tmpl, .email.txt.tmpl and
// .email.html.tmpl (html/template) for email, and <kind>.<locale>.lines.txt
// for a line library (one line a message; blank lines and lines starting
// with # are ignored). Other files are ignored. Errors name the file.
func Load(override fs.FS) (*Set, error) {
	s := &Set{parts: map[partKey]*part{}, lines: map[linesKey]linesFile{}}
	defaults, err := fs.Sub(embedded, "defaults")
	if err != nil {
		return nil, fmt.Errorf("templates: opening embedded defaults: %w", err)
	}
	if err := s.addDir(defaults, "default"); err != nil {
		return nil, err
	}
	if override != nil {
		if err := s.addDir(override, "override"); err != nil {
			return nil, err
		}
	}
	if err := s.checkEmailComplete(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Set) addDir(fsys fs.FS, origin string) error {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return fmt.Errorf("templates: reading %s directory: %w", origin, err)
	}
	seen := map[partKey]string{} // "reminder.es-MX…" and "reminder.es-mx…" are one template
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		name := e.Name()
		switch {
		case strings.HasSuffix(name, ".tmpl"):
			key, err := parseTemplateName(name)
			if err != nil {
				return fmt.Errorf("templates: %s file %s: %w", origin, name, err)
			}
			src, err := fs.ReadFile(fsys, name)
			if err != nil {
				return fmt.Errorf("templates: %s file %s: %w", origin, name, err)
			}
			p, err := parsePart(name, key.part, string(src))
			if err != nil {
				return fmt.Errorf("templates: %s file %s: %w", origin, name, err)
			}
			if other, dup := seen[key]; dup {
				return fmt.Errorf("templates: %s files %s and %s are the same template", origin, other, name)
			}
			seen[key] = name
			p.origin = origin
			s.parts[key] = p
		case strings.HasSuffix(name, ".lines.txt"):
			key, err := parseLinesName(name)
			if err != nil {
				return fmt.Errorf("templates: %s file %s: %w", origin, name, err)
			}
			src, err := fs.ReadFile(fsys, name)
			if err != nil {
				return fmt.Errorf("templates: %s file %s: %w", origin, name, err)
			}
			themed := parseThemedLines(src)
			if len(themed) == 0 {
				return fmt.Errorf("templates: %s file %s: no lines", origin, name)
			}
			lines := make([]string, len(themed))
			for i, l := range themed {
				if l.Theme != "" && !slices.Contains(Themes(), l.Theme) {
					return fmt.Errorf("templates: %s file %s: line %d: unknown theme %q, want one of %s", origin, name, i+1, l.Theme, strings.Join(Themes(), ", "))
				}
				lines[i] = l.Text
			}
			s.lines[key] = linesFile{file: name, lines: lines, themed: themed}
		}
	}
	return nil
}

func parseTemplateName(name string) (partKey, error) {
	rest := strings.TrimSuffix(name, ".tmpl")
	var p string
	for _, candidate := range append([]string{partSMS}, emailParts...) {
		if strings.HasSuffix(rest, "."+candidate) {
			p = candidate
			break
		}
	}
	if p == "" {
		return partKey{}, errors.New("name must end in .sms.tmpl, .email.subject.tmpl, .email.txt.tmpl or .email.html.tmpl")
	}
	kind, locale, err := splitKindLocale(strings.TrimSuffix(rest, "."+p))
	if err != nil {
		return partKey{}, err
	}
	return partKey{kind: kind, locale: locale, part: p}, nil
}

func parseLinesName(name string) (linesKey, error) {
	kind, locale, err := splitKindLocale(strings.TrimSuffix(name, ".lines.txt"))
	if err != nil {
		return linesKey{}, err
	}
	return linesKey{kind: kind, locale: locale}, nil
}

func splitKindLocale(s string) (kind, locale string, err error) {
	i := strings.LastIndexByte(s, '.')
	if i < 0 {
		return "", "", errors.New("name must be <kind>.<locale>.<format>")
	}
	kind, locale = s[:i], normalizeLocale(s[i+1:])
	if !kindPattern.MatchString(kind) {
		return "", "", fmt.Errorf("kind %q must be lower case letters, digits and _", kind)
	}
	if !localePattern.MatchString(locale) {
		return "", "", fmt.Errorf("locale %q is not a language tag like en or es-MX", s[i+1:])
	}
	return kind, locale, nil
}

// parsePart parses one file. Every template runs with missingkey=error as a
// backstop to the variable check in Render.
func parsePart(name, p, src string) (*part, error) {
	var tree *parse.Tree
	var exec func(io.Writer, any) error
	if p == partEmailHTML {
		t, err := htmltemplate.New(name).Option("missingkey=error").Parse(src)
		if err != nil {
			return nil, err
		}
		tree, exec = t.Tree, t.Execute
	} else {
		t, err := template.New(name).Option("missingkey=error").Parse(src)
		if err != nil {
			return nil, err
		}
		tree, exec = t.Tree, t.Execute
	}
	return &part{file: name, vars: referencedVars(tree), exec: exec}, nil
}

func (s *Set) checkEmailComplete() error {
	for key := range s.parts {
		if key.part == partSMS {
			continue
		}
		for _, p := range emailParts {
			if _, ok := s.parts[partKey{key.kind, key.locale, p}]; !ok {
				return fmt.Errorf("templates: email for %s.%s lacks %s.%s.%s.tmpl", key.kind, key.locale, key.kind, key.locale, p)
			}
		}
	}
	return nil
}

// Kinds lists the kinds of message the Set can render, sorted.
func (s *Set) Kinds() []string {
	var kinds []string
	for key := range s.parts {
		kinds = append(kinds, key.kind)
	}
	slices.Sort(kinds)
	return slices.Compact(kinds)
}

// Lines returns the line library for kind (for example the supportive lines
// an encouragement message picks its Message from) in the first locale on
// locale's fallback path that has one, or nil. The caller chooses the line.
func (s *Set) Lines(kind, locale string) []string {
	for _, l := range localeFallbacks(locale) {
		if lf, ok := s.lines[linesKey{kind, l}]; ok {
			return slices.Clone(lf.lines)
		}
	}
	return nil
}

// Render renders kind for channel (vocab.SMS or vocab.Email) in locale,
// falling back from a region to its language and then to FallbackLocale
// ("es-MX" → "es" → "en"). vars must hold every variable the chosen
// templates refer to, even where today's data would skip it: a missing or
// nil variable is an error wrapping ErrMissingVar, never an empty string.
// Text and Subject are trimmed of surrounding white space; a subject must
// be one line.
func (s *Set) Render(kind, locale string, channel vocab.Channel, vars map[string]any) (Message, error) {
	names, found, err := s.resolve(kind, locale, channel)
	if err != nil {
		return Message{}, err
	}
	out := make([]string, len(names))
	for i, name := range names {
		text, err := s.parts[partKey{kind, found, name}].render(vars)
		if err != nil {
			return Message{}, err
		}
		out[i] = text
	}
	if channel == vocab.SMS {
		return Message{Channel: channel, Text: out[0]}, nil
	}
	if strings.ContainsAny(out[0], "\r\n") {
		return Message{}, fmt.Errorf("templates: rendering %s.%s.%s.tmpl: subject has a line break", kind, found, partEmailSubject)
	}
	return Message{Channel: channel, Subject: out[0], Text: out[1], HTML: out[2]}, nil
}

// Vars lists the variables Render needs for kind in locale on channel
// (after locale fallback), sorted: what the caller must put in vars.
func (s *Set) Vars(kind, locale string, channel vocab.Channel) ([]string, error) {
	names, found, err := s.resolve(kind, locale, channel)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, name := range names {
		out = append(out, s.parts[partKey{kind, found, name}].vars...)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// resolve finds the parts of channel and the locale that has them.
func (s *Set) resolve(kind, locale string, channel vocab.Channel) (parts []string, found string, err error) {
	switch channel {
	case vocab.SMS:
		parts = []string{partSMS}
	case vocab.Email:
		parts = emailParts
	default:
		return nil, "", fmt.Errorf("templates: unknown channel %q", channel)
	}
	for _, l := range localeFallbacks(locale) {
		if _, ok := s.parts[partKey{kind, l, parts[0]}]; ok {
			return parts, l, nil
		}
	}
	return nil, "", fmt.Errorf("%w for %s %s in locale %q", ErrNotFound, kind, channel, locale)
}

func (p *part) render(vars map[string]any) (string, error) {
	var missing []string
	for _, v := range p.vars {
		if vars[v] == nil {
			missing = append(missing, v)
		}
	}
	if len(missing) > 0 {
		return "", fmt.Errorf("rendering %s: %w: %s", p.file, ErrMissingVar, strings.Join(missing, ", "))
	}
	var b strings.Builder
	if err := p.exec(&b, vars); err != nil {
		if strings.Contains(err.Error(), "map has no entry for key") {
			return "", fmt.Errorf("rendering %s: %w: %w", p.file, ErrMissingVar, err)
		}
		return "", fmt.Errorf("rendering %s: %w", p.file, err)
	}
	return strings.TrimSpace(b.String()), nil
}

func normalizeLocale(l string) string {
	return strings.ToLower(strings.ReplaceAll(strings.TrimSpace(l), "_", "-"))
}

// localeFallbacks returns the locales to try for l, most specific first:
// "es-MX" gives es-mx, es, en.
func localeFallbacks(l string) []string {
	l = normalizeLocale(l)
	var out []string
	for l != "" {
		out = append(out, l)
		i := strings.LastIndexByte(l, '-')
		if i < 0 {
			break
		}
		l = l[:i]
	}
	if !slices.Contains(out, FallbackLocale) {
		out = append(out, FallbackLocale)
	}
	return out
}
