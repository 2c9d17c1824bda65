package templates

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/nudgehq/nudge/internal/vocab"
)

func mustLoad(t *testing.T, override map[string]string) *Set {
	t.Helper()
	var fsys fstest.MapFS
	if override != nil {
		fsys = fstest.MapFS{}
		for name, src := range override {
			fsys[name] = &fstest.MapFile{Data: []byte(src)}
		}
	}
	s, err := Load(fsys)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// vars returns complete vars for every shipped kind.
func vars(locale string) map[string]any {
	v := map[string]any{
		"FirstName":             "Sam",
		"PracticeName":          "Lakeside Counseling",
		"When":                  "Thu, Mar 12 at 3:30 PM",
		"LocationKind":          "in_person",
		"Link":                  "",
		"PracticePostalAddress": "123 Harbor St, Portland, OR 97201",
		"UnsubscribeURL":        "https://nudge.example.com/u/x1",
		"Body":                  "The Thursday group meets at 6 PM.",
		"Message":               "Be gentle with yourself today.",
		"PerWeek":               2,
	}
	maps.Copy(v, CommonVars(locale, "988"))
	return v
}

var (
	smsKinds = []string{
		KindReminder, KindBooked, KindEncouragement, KindJournalNudge, KindAnnouncement, KindConfirmed,
		KindRescheduleRequested, KindHelp, KindOptedOut, KindResubscribed, KindCrisis, KindCrisisAlert, KindOptInRequest, KindOptInWelcome,
	}
	emailKinds = []string{KindReminder, KindBooked, KindEncouragement, KindJournalNudge, KindAnnouncement, KindCrisisAlert}
)

func TestShippedKindsRenderInEveryLocale(t *testing.T) {
	s := mustLoad(t, nil)
	if got := s.Kinds(); !slices.Equal(got, slices.Sorted(slices.Values(smsKinds))) {
		t.Errorf("Kinds() = %v", got)
	}
	for _, locale := range []string{"en", "es"} {
		for _, kind := range smsKinds {
			if _, ok := s.parts[partKey{kind, locale, partSMS}]; !ok {
				t.Errorf("no %s SMS in %s", kind, locale)
			}
			m, err := s.Render(kind, locale, vocab.SMS, vars(locale))
			if err != nil {
				t.Errorf("Render(%s, %s, sms): %v", kind, locale, err)
				continue
			}
			if m.Channel != vocab.SMS || m.Text == "" || m.Subject != "" || m.HTML != "" {
				t.Errorf("Render(%s, %s, sms) = %+v", kind, locale, m)
			}
			if strings.Contains(m.Text, "<no value>") {
				t.Errorf("Render(%s, %s, sms) printed a missing value: %q", kind, locale, m.Text)
			}
		}
		for _, kind := range emailKinds {
			if _, ok := s.parts[partKey{kind, locale, partEmailSubject}]; !ok {
				t.Errorf("no %s email in %s", kind, locale)
			}
			m, err := s.Render(kind, locale, vocab.Email, vars(locale))
			if err != nil {
				t.Errorf("Render(%s, %s, email): %v", kind, locale, err)
				continue
			}
			if m.Subject == "" || m.Text == "" || !strings.Contains(m.HTML, "<html") {
				t.Errorf("Render(%s, %s, email) = %+v", kind, locale, m)
			}
		}
		if lines := s.Lines(KindEncouragement, locale); len(lines) < 7 {
			t.Errorf("%d encouragement lines in %s, want at least 7", len(lines), locale)
		}
	}
}

func TestReminderLocation(t *testing.T) {
	s := mustLoad(t, nil)
	v := vars("en")
	m, err := s.Render(KindReminder, "en", vocab.SMS, v)
	if err != nil {
		t.Fatal(err)
	}
	want := "Hi Sam, reminder from Lakeside Counseling: your appointment is Thu, Mar 12 at 3:30 PM, in person. Reply C to confirm or R to reschedule."
	if m.Text != want {
		t.Errorf("in person:\n got %q\nwant %q", m.Text, want)
	}
	v["LocationKind"], v["Link"] = "telehealth", "https://meet.example.com/j/1"
	m, err = s.Render(KindReminder, "en", vocab.SMS, v)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.Text, "online") || !strings.HasSuffix(m.Text, "\nJoin: https://meet.example.com/j/1") {
		t.Errorf("telehealth: %q", m.Text)
	}
	if strings.Contains(strings.ToUpper(m.Text), "CANCEL") {
		t.Errorf("reminder mentions CANCEL: %q", m.Text)
	}
	m, err = s.Render(KindReminder, "en", vocab.Email, v)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.HTML, `<a href="https://meet.example.com/j/1">`) || !strings.Contains(m.Text, "Join here: https://meet.example.com/j/1") {
		t.Errorf("telehealth email lacks the link:\n%s\n%s", m.Text, m.HTML)
	}
}

func TestMissingVariableIsAnError(t *testing.T) {
	s := mustLoad(t, nil)
	for _, missing := range []string{"FirstName", "When", "PracticeName", "Link"} {
		v := vars("en")
		delete(v, missing)
		_, err := s.Render(KindReminder, "en", vocab.SMS, v)
		if !errors.Is(err, ErrMissingVar) || !strings.Contains(err.Error(), missing) {
			t.Errorf("without %s: err = %v, want ErrMissingVar naming it", missing, err)
		}
	}
	// nil counts as missing.
	v := vars("en")
	v["FirstName"] = nil
	if _, err := s.Render(KindReminder, "en", vocab.SMS, v); !errors.Is(err, ErrMissingVar) {
		t.Errorf("nil FirstName: err = %v, want ErrMissingVar", err)
	}
	// Email checks every part, HTML included.
	v = vars("en")
	delete(v, "UnsubscribeURL")
	if _, err := s.Render(KindEncouragement, "en", vocab.Email, v); !errors.Is(err, ErrMissingVar) {
		t.Errorf("email without UnsubscribeURL: err = %v, want ErrMissingVar", err)
	}
}

// missingkey=error catches what the up-front check cannot see: a key
// missing from a nested map, inside with.
func TestMissingKeyOptionBackstop(t *testing.T) {
	s := mustLoad(t, map[string]string{
		"nested.en.sms.tmpl":           `{{with .Client}}Hi {{.FirstName}}{{end}}`,
		"nested.en.email.subject.tmpl": `{{with .Client}}Hi {{.FirstName}}{{end}}`,
		"nested.en.email.txt.tmpl":     `x`,
		"nested.en.email.html.tmpl":    `{{with .Client}}<p>Hi {{.FirstName}}</p>{{end}}`,
	})
	v := map[string]any{"Client": map[string]any{"LastName": "Lee"}}
	for _, channel := range []vocab.Channel{vocab.SMS, vocab.Email} {
		_, err := s.Render("nested", "en", channel, v)
		if !errors.Is(err, ErrMissingVar) {
			t.Errorf("%s: err = %v, want ErrMissingVar", channel, err)
		}
	}
	v = map[string]any{"Client": map[string]any{"FirstName": "Lee"}}
	m, err := s.Render("nested", "en", vocab.SMS, v)
	if err != nil || m.Text != "Hi Lee" {
		t.Errorf("Render = %q, %v", m.Text, err)
	}
}

func TestLocaleFallback(t *testing.T) {
	s := mustLoad(t, map[string]string{
		"confirmed.es-mx.sms.tmpl": "Gracias {{.FirstName}}, confirmado (MX).",
	})
	tests := []struct{ locale, want string }{
		{"es-MX", "Gracias Sam, confirmado (MX)."},
		{"es_mx", "Gracias Sam, confirmado (MX)."},
		{"es-AR", "Gracias, Sam."},
		{"es", "Gracias, Sam."},
		{"fr-CA", "Thanks, Sam."},
		{"", "Thanks, Sam."},
	}
	for _, tt := range tests {
		m, err := s.Render(KindConfirmed, tt.locale, vocab.SMS, vars(tt.locale))
		if err != nil {
			t.Errorf("%q: %v", tt.locale, err)
			continue
		}
		if !strings.HasPrefix(m.Text, tt.want) {
			t.Errorf("%q: %q, want prefix %q", tt.locale, m.Text, tt.want)
		}
	}
	if got := localeFallbacks("zh-Hant-TW"); !slices.Equal(got, []string{"zh-hant-tw", "zh-hant", "zh", "en"}) {
		t.Errorf("localeFallbacks = %v", got)
	}
	if lines := s.Lines(KindEncouragement, "es-MX"); len(lines) == 0 || lines[0] != s.Lines(KindEncouragement, "es")[0] {
		t.Errorf("Lines(es-MX) did not fall back to es: %v", lines)
	}
}

func TestRenderErrors(t *testing.T) {
	s := mustLoad(t, map[string]string{
		"announcement.en.email.subject.tmpl": "News\n{{.Body}}",
	})
	if _, err := s.Render("nonesuch", "en", vocab.SMS, vars("en")); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown kind: %v", err)
	}
	if _, err := s.Render(KindHelp, "en", vocab.Email, vars("en")); !errors.Is(err, ErrNotFound) {
		t.Errorf("help has no email: %v", err)
	}
	if _, err := s.Render(KindHelp, "en", "fax", vars("en")); err == nil {
		t.Error("unknown channel: no error")
	}
	if _, err := s.Render(KindAnnouncement, "en", vocab.Email, vars("en")); err == nil || !strings.Contains(err.Error(), "line break") {
		t.Errorf("two-line subject: %v", err)
	}
}

func TestHTMLEscapesValues(t *testing.T) {
	s := mustLoad(t, nil)
	v := vars("en")
	v["Body"] = `<script>alert(1)</script> & more`
	v["UnsubscribeURL"] = "javascript:alert(1)"
	m, err := s.Render(KindAnnouncement, "en", vocab.Email, v)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(m.HTML, "<script>") || strings.Contains(m.HTML, "javascript:") {
		t.Errorf("HTML not escaped:\n%s", m.HTML)
	}
	if !strings.Contains(m.Text, "<script>alert(1)</script> & more") {
		t.Errorf("plain text should carry the body as written:\n%s", m.Text)
	}
}

func TestOverrideFromDirectory(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("confirmed.en.sms.tmpl", "All set, {{.FirstName}}! See you {{.When}}. - {{.PracticeName}}\n")
	write("group_welcome.en.sms.tmpl", "Welcome to the group, {{.FirstName}}. {{.OptOutLine}}")
	write("encouragement.en.lines.txt", "# ours\nYou are doing enough.\n\nOne step at a time.\n")
	write("README.md", "ignored")
	if err := os.Mkdir(filepath.Join(dir, "drafts"), 0o755); err != nil {
		t.Fatal(err)
	}

	s, err := Load(os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.Render(KindConfirmed, "en", vocab.SMS, vars("en"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Text != "All set, Sam! See you Thu, Mar 12 at 3:30 PM. - Lakeside Counseling" {
		t.Errorf("override not used: %q", m.Text)
	}
	if m, err := s.Render(KindConfirmed, "es", vocab.SMS, vars("es")); err != nil || !strings.HasPrefix(m.Text, "Gracias") {
		t.Errorf("embedded es should remain: %q, %v", m.Text, err)
	}
	if !slices.Contains(s.Kinds(), "group_welcome") {
		t.Errorf("Kinds() = %v, want group_welcome added", s.Kinds())
	}
	if got := s.Lines(KindEncouragement, "en"); !slices.Equal(got, []string{"You are doing enough.", "One step at a time."}) {
		t.Errorf("Lines = %q", got)
	}
	if s.parts[partKey{KindConfirmed, "en", partSMS}].origin != "override" {
		t.Error("origin not recorded")
	}
}

func TestLoadErrorsNameTheFile(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"parse error", map[string]string{"reminder.en.sms.tmpl": "Hi {{.FirstName"}, "override file reminder.en.sms.tmpl"},
		{"HTML parse error", map[string]string{"booked.en.email.html.tmpl": "<p>{{if .X}}</p>"}, "booked.en.email.html.tmpl"},
		{"bad format", map[string]string{"reminder.en.txt.tmpl": "x"}, "reminder.en.txt.tmpl"},
		{"bad locale", map[string]string{"reminder.english.sms.tmpl": "x"}, "reminder.english.sms.tmpl"},
		{"bad kind", map[string]string{"Reminder.en.sms.tmpl": "x"}, "Reminder.en.sms.tmpl"},
		{"empty lines", map[string]string{"encouragement.fr.lines.txt": "# nothing\n"}, "encouragement.fr.lines.txt"},
		{"same template twice", map[string]string{"reminder.es-MX.sms.tmpl": "x", "reminder.es-mx.sms.tmpl": "y"}, "reminder.es-MX.sms.tmpl and reminder.es-mx.sms.tmpl"},
		{"incomplete email", map[string]string{"welcome.en.email.subject.tmpl": "Hi"}, "welcome.en.email.txt.tmpl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for name, src := range tt.files {
				fsys[name] = &fstest.MapFile{Data: []byte(src)}
			}
			_, err := Load(fsys)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load error %v, want it to name %q", err, tt.want)
			}
		})
	}
}

func TestCommonVars(t *testing.T) {
	en := CommonVars("en-US", "988")
	if en["OptOutLine"] != "Reply STOP to opt out." || !strings.Contains(en["EmergencyFooter"].(string), "988") || en["CrisisLine"] != "988" {
		t.Errorf("CommonVars(en-US) = %v", en)
	}
	es := CommonVars("es-MX", "911")
	if !strings.Contains(es["OptOutLine"].(string), "STOP") || !strings.HasSuffix(es["EmergencyFooter"].(string), "al 911.") {
		t.Errorf("CommonVars(es-MX) = %v", es)
	}
	if fr := CommonVars("fr", "112"); fr["OptOutLine"] != en["OptOutLine"] {
		t.Errorf("CommonVars(fr) = %v, want English", fr)
	}
	for _, v := range []map[string]any{en, es} {
		for k, s := range v {
			if enc, _ := SMSInfo(s.(string)); enc != EncodingGSM7 {
				t.Errorf("%s %q is %s", k, s, enc)
			}
		}
	}
}

// The variable table in doc.go is what the shipped templates need.
func TestVarsMatchDocumentation(t *testing.T) {
	s := mustLoad(t, nil)
	location := []string{"FirstName", "Link", "LocationKind", "PracticeName", "When"}
	email := []string{"EmergencyFooter", "PracticePostalAddress", "UnsubscribeURL"}
	want := map[string][]string{
		KindReminder:            location,
		KindBooked:              location,
		KindEncouragement:       {"EmergencyFooter", "FirstName", "Message", "OptOutLine", "PracticeName"},
		KindJournalNudge:        {"EmergencyFooter", "FirstName", "OptOutLine", "PracticeName"},
		KindAnnouncement:        {"Body", "FirstName", "OptOutLine", "PracticeName"},
		KindConfirmed:           {"FirstName", "PracticeName", "When"},
		KindRescheduleRequested: {"FirstName", "PracticeName"},
		KindHelp:                {"EmergencyFooter", "OptOutLine", "PracticeName"},
		KindOptedOut:            {"PracticeName"},
		KindResubscribed:        {"OptOutLine", "PracticeName"},
		KindCrisis:              {"CrisisLine", "PracticeName"},
		KindCrisisAlert:         {"Link", "PracticeName"},
	}
	for kind, sms := range want {
		for _, locale := range []string{"en", "es"} {
			got, err := s.Vars(kind, locale, vocab.SMS)
			if err != nil || !slices.Equal(got, sms) {
				t.Errorf("Vars(%s, %s, sms) = %v, %v; want %v", kind, locale, got, err, sms)
			}
			if !slices.Contains(emailKinds, kind) {
				continue
			}
			extra := email
			if kind == KindCrisisAlert {
				extra = nil // to staff: no footer, address or unsubscribe link
			}
			wantEmail := slices.Sorted(slices.Values(slices.Concat(sms, extra)))
			wantEmail = slices.Compact(wantEmail)
			wantEmail = slices.DeleteFunc(wantEmail, func(v string) bool { return v == "OptOutLine" })
			got, err = s.Vars(kind, locale, vocab.Email)
			if err != nil || !slices.Equal(got, wantEmail) {
				t.Errorf("Vars(%s, %s, email) = %v, %v; want %v", kind, locale, got, err, wantEmail)
			}
		}
	}
}
