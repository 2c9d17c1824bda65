package templates

import (
	"strings"
	"testing"
	"testing/fstest"
)

// TestShippedTemplatesLintClean is the gate for nudge's own templates: no
// error findings. Warnings are logged for whoever edits the content.
func TestShippedTemplatesLintClean(t *testing.T) {
	s, err := Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range Lint(s, DefaultLintConfig()) {
		if f.Severity == SeverityError {
			t.Errorf("%s", f)
		} else {
			t.Logf("%s", f)
		}
	}
}

// lintOverride loads the defaults plus files and returns the findings for
// file under rule.
func lintOverride(t *testing.T, files map[string]string, file, rule string) []Finding {
	t.Helper()
	fsys := fstest.MapFS{}
	for name, src := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(src)}
	}
	s, err := Load(fsys)
	if err != nil {
		t.Fatal(err)
	}
	var out []Finding
	for _, f := range Lint(s, DefaultLintConfig()) {
		if f.File == file && f.Rule == rule {
			out = append(out, f)
		}
	}
	return out
}

const emailFooterTxt = "\n{{.EmergencyFooter}}\n{{.PracticePostalAddress}}\n{{.UnsubscribeURL}}\n"

func TestLintRulesCatchBadTemplates(t *testing.T) {
	tests := []struct {
		name     string
		files    map[string]string
		file     string
		rule     string
		severity string
		contains string
	}{
		{
			name:  "health word in SMS",
			files: map[string]string{"reminder.en.sms.tmpl": `Hi {{.FirstName}}, your EMDR appointment is {{.When}}{{.Link}}{{.LocationKind}}. Reply C to confirm.`},
			file:  "reminder.en.sms.tmpl", rule: RuleHealthWord, severity: SeverityError, contains: "EMDR",
		},
		{
			name:  "health phrase across punctuation, any case",
			files: map[string]string{"announcement.en.sms.tmpl": `Hi {{.FirstName}}, the COUPLES-therapy group moved. {{.Body}} {{.PracticeName}} {{.OptOutLine}}`},
			file:  "announcement.en.sms.tmpl", rule: RuleHealthWord, severity: SeverityError, contains: "couples therapy",
		},
		{
			name:  "Spanish health word without its accent",
			files: map[string]string{"booked.es.sms.tmpl": `Hola {{.FirstName}}, tu cita de depresion es el {{.When}}{{.Link}}{{.LocationKind}} {{.PracticeName}}`},
			file:  "booked.es.sms.tmpl", rule: RuleHealthWord, severity: SeverityError, contains: "depresión",
		},
		{
			name:  "health word in the HTML part",
			files: map[string]string{"booked.en.email.html.tmpl": `<p>Your <b>psychiatrist</b> awaits {{.FirstName}} {{.When}} {{.Link}} {{.LocationKind}}</p>` + emailFooterTxt},
			file:  "booked.en.email.html.tmpl", rule: RuleHealthWord, severity: SeverityError, contains: "psychiatrist",
		},
		{
			name:  "health word in a line library",
			files: map[string]string{"encouragement.en.lines.txt": "Your anxiety is valid.\nBreathe.\n"},
			file:  "encouragement.en.lines.txt", rule: RuleHealthWord, severity: SeverityError, contains: "line 1",
		},
		{
			name:  "reply CANCEL",
			files: map[string]string{"reminder.en.sms.tmpl": `Hi {{.FirstName}} {{.PracticeName}} {{.When}} {{.Link}} {{.LocationKind}}. Reply C to confirm or reply CANCEL to cancel.`},
			file:  "reminder.en.sms.tmpl", rule: RuleKeywordTrap, severity: SeverityError, contains: "reply CANCEL",
		},
		{
			name:  "text END in quotes",
			files: map[string]string{"booked.en.sms.tmpl": `{{.FirstName}} {{.PracticeName}} {{.When}} {{.Link}} {{.LocationKind}}. To call it off, text "END".`},
			file:  "booked.en.sms.tmpl", rule: RuleKeywordTrap, severity: SeverityError, contains: "END",
		},
		{
			name:  "Spanish responde CANCELAR",
			files: map[string]string{"reminder.es.sms.tmpl": `{{.FirstName}} {{.PracticeName}} {{.When}} {{.Link}} {{.LocationKind}}. Respondé CANCELAR para anular.`},
			file:  "reminder.es.sms.tmpl", rule: RuleKeywordTrap, severity: SeverityError, contains: "CANCELAR",
		},
		{
			name:  "reply STOP for something else",
			files: map[string]string{"reminder.en.sms.tmpl": `{{.FirstName}} {{.PracticeName}} {{.When}} {{.Link}} {{.LocationKind}}. Reply STOP to cancel your appointment.`},
			file:  "reminder.en.sms.tmpl", rule: RuleKeywordTrap, severity: SeverityError, contains: "STOP",
		},
		{
			name:  "reply YES to confirm",
			files: map[string]string{"reminder.en.sms.tmpl": `{{.FirstName}} {{.PracticeName}} {{.When}} {{.Link}} {{.LocationKind}}. Reply YES to confirm.`},
			file:  "reminder.en.sms.tmpl", rule: RuleKeywordTrap, severity: SeverityError, contains: "YES",
		},
		{
			name:  "keyword trap in an email subject",
			files: map[string]string{"reminder.en.email.subject.tmpl": `{{.When}}: reply QUIT to cancel`},
			file:  "reminder.en.email.subject.tmpl", rule: RuleKeywordTrap, severity: SeverityError, contains: "QUIT",
		},
		{
			name:  "encouragement SMS without opt-out line",
			files: map[string]string{"encouragement.en.sms.tmpl": `Hi {{.FirstName}}, {{.Message}} {{.PracticeName}} {{.EmergencyFooter}}`},
			file:  "encouragement.en.sms.tmpl", rule: RuleOptOutLine, severity: SeverityError,
		},
		{
			name:  "announcement SMS without opt-out line",
			files: map[string]string{"announcement.es.sms.tmpl": `Hola {{.FirstName}}: {{.Body}} {{.PracticeName}}`},
			file:  "announcement.es.sms.tmpl", rule: RuleOptOutLine, severity: SeverityError,
		},
		{
			name:  "journal nudge SMS without emergency footer",
			files: map[string]string{"journal_nudge.en.sms.tmpl": `Hi {{.FirstName}}, your journal is there. {{.PracticeName}} {{.OptOutLine}}`},
			file:  "journal_nudge.en.sms.tmpl", rule: RuleEmergencyFooter, severity: SeverityError,
		},
		{
			name:  "encouragement email without emergency footer",
			files: map[string]string{"encouragement.en.email.txt.tmpl": "{{.FirstName}} {{.Message}} {{.PracticeName}}\n{{.PracticePostalAddress}}\n{{.UnsubscribeURL}}"},
			file:  "encouragement.en.email.txt.tmpl", rule: RuleEmergencyFooter, severity: SeverityError,
		},
		{
			name:  "email without unsubscribe link",
			files: map[string]string{"reminder.en.email.txt.tmpl": "{{.FirstName}} {{.When}} {{.Link}} {{.LocationKind}} {{.PracticeName}}\n{{.PracticePostalAddress}}"},
			file:  "reminder.en.email.txt.tmpl", rule: RuleUnsubscribe, severity: SeverityError,
		},
		{
			name:  "HTML email without unsubscribe link",
			files: map[string]string{"announcement.es.email.html.tmpl": "<p>{{.FirstName}} {{.Body}} {{.PracticeName}} {{.PracticePostalAddress}}</p>"},
			file:  "announcement.es.email.html.tmpl", rule: RuleUnsubscribe, severity: SeverityError,
		},
		{
			name:  "email without postal address",
			files: map[string]string{"booked.es.email.txt.tmpl": "{{.FirstName}} {{.When}} {{.Link}} {{.LocationKind}} {{.PracticeName}}\n{{.UnsubscribeURL}}"},
			file:  "booked.es.email.txt.tmpl", rule: RulePostalAddress, severity: SeverityError,
		},
		{
			name:  "crisis reply without crisis line",
			files: map[string]string{"crisis.en.sms.tmpl": "We hear you. Please call someone. {{.PracticeName}}"},
			file:  "crisis.en.sms.tmpl", rule: RuleCrisisLine, severity: SeverityError,
		},
		{
			name:  "journal nudge counting missed days",
			files: map[string]string{"journal_nudge.en.sms.tmpl": "Hi {{.FirstName}}, you missed 3 days in a row! {{.PracticeName}} {{.OptOutLine}} {{.EmergencyFooter}}"},
			file:  "journal_nudge.en.sms.tmpl", rule: RuleShamingWord, severity: SeverityError, contains: "missed",
		},
		{
			name:  "template uses a variable nobody provides",
			files: map[string]string{"journal_nudge.en.sms.tmpl": "Hi {{.FirstName}}, {{.MissedDays}} days. {{.PracticeName}} {{.OptOutLine}} {{.EmergencyFooter}}"},
			file:  "journal_nudge.en.sms.tmpl", rule: RuleRender, severity: SeverityError, contains: "MissedDays",
		},
		{
			name:  "kind without an English fallback",
			files: map[string]string{"group_welcome.es.sms.tmpl": "Hola {{.FirstName}}. {{.PracticeName}} {{.OptOutLine}}"},
			file:  "group_welcome.es.sms.tmpl", rule: RuleFallback, severity: SeverityError,
		},
		{
			name:  "findings name the file as written",
			files: map[string]string{"confirmed.es-MX.sms.tmpl": "Gracias {{.FirstName}}, tu cita de EMDR. {{.PracticeName}}"},
			file:  "confirmed.es-MX.sms.tmpl", rule: RuleHealthWord, severity: SeverityError, contains: "EMDR",
		},
		{
			name:  "unknown kind needs the opt-out line",
			files: map[string]string{"group_welcome.en.sms.tmpl": "Hi {{.FirstName}}, welcome. {{.PracticeName}}"},
			file:  "group_welcome.en.sms.tmpl", rule: RuleOptOutLine, severity: SeverityError,
		},
		{
			name:  "curly apostrophe forces UCS-2",
			files: map[string]string{"confirmed.en.sms.tmpl": "Thanks {{.FirstName}}, you’re confirmed for {{.When}}. {{.PracticeName}}"},
			file:  "confirmed.en.sms.tmpl", rule: RuleSMSEncoding, severity: SeverityWarning, contains: "'’'",
		},
		{
			name:  "too many segments",
			files: map[string]string{"confirmed.en.sms.tmpl": "Thanks {{.FirstName}}. " + strings.Repeat("All good, see you soon. ", 20) + "{{.When}} {{.PracticeName}}"},
			file:  "confirmed.en.sms.tmpl", rule: RuleSMSSegments, severity: SeverityWarning, contains: "4 GSM-7 segments",
		},
		{
			name:  "a line from the library makes the SMS too long",
			files: map[string]string{"encouragement.en.lines.txt": "Short.\n" + strings.Repeat("Long line ", 40) + "\n"},
			file:  "encouragement.en.sms.tmpl", rule: RuleSMSSegments, severity: SeverityWarning, contains: "encouragement.en.lines.txt line 2",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			found := lintOverride(t, tt.files, tt.file, tt.rule)
			if len(found) == 0 {
				t.Fatalf("no %s finding for %s", tt.rule, tt.file)
			}
			mentioned := false
			for _, f := range found {
				if f.Severity != tt.severity {
					t.Errorf("severity %s, want %s: %s", f.Severity, tt.severity, f)
				}
				mentioned = mentioned || strings.Contains(f.Message, tt.contains)
			}
			if !mentioned {
				t.Errorf("findings %v do not mention %q", found, tt.contains)
			}
		})
	}
}

// The opt-out line is required, not a trap, and neither are the other
// sanctioned keyword instructions.
func TestLintAllowsSanctionedKeywords(t *testing.T) {
	cfg := DefaultLintConfig()
	for _, text := range []string{
		"Reply STOP to opt out.",
		"Text STOP to unsubscribe at any time.",
		"Responde STOP para darte de baja.",
		"Reply C to confirm or R to reschedule.",
		"Responde C para confirmar o R para reprogramar.",
		"Responde para confirmar tu cita.",
		"Reply START to resubscribe. Reply HELP for help.",
		"See you at the end of the week.",
		"Send us a note if you need to cancel.",
	} {
		if got := LintBody(text, cfg); len(got) > 0 {
			t.Errorf("LintBody(%q) = %v, want nothing", text, got)
		}
	}
}

func TestLintBody(t *testing.T) {
	got := LintBody("Reminder: the Tuesday ADHD group is moved. Reply CANCEL if you can't come.", DefaultLintConfig())
	rules := map[string]bool{}
	for _, f := range got {
		rules[f.Rule] = true
	}
	if !rules[RuleHealthWord] || !rules[RuleKeywordTrap] {
		t.Errorf("LintBody findings %v, want %s and %s", got, RuleHealthWord, RuleKeywordTrap)
	}
}

func TestLintUsesConfiguredVars(t *testing.T) {
	s, err := Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultLintConfig()
	cfg.Vars = map[string]any{"PracticeName": "Harbor Anxiety Clinic"}
	var found bool
	for _, f := range Lint(s, cfg) {
		if f.Rule == RuleHealthWord && strings.Contains(f.Message, "anxiety") {
			found = true
		}
	}
	if !found {
		t.Error("a practice name with a health word was not flagged")
	}
}

func TestLintConfigHealthWordsConfigurable(t *testing.T) {
	cfg := DefaultLintConfig()
	cfg.HealthWords = []string{"grief"}
	if got := LintBody("A grief circle meets Monday.", cfg); len(got) != 1 || got[0].Rule != RuleHealthWord {
		t.Errorf("LintBody = %v, want one %s finding", got, RuleHealthWord)
	}
	if got := LintBody("Your ADHD check-in.", cfg); len(got) != 0 {
		t.Errorf("LintBody = %v, want nothing with a custom list", got)
	}
}

func TestHealthWordsAreWholeWords(t *testing.T) {
	cfg := DefaultLintConfig()
	for _, text := range []string{
		"Traumatology wing is closed.",  // not "trauma"
		"Please add a note.",            // "add" is not listed
		"Great news about the grocery.", // nothing at all
		"Substantial progress!",         // not "substance"
	} {
		if got := LintBody(text, cfg); len(got) > 0 {
			t.Errorf("LintBody(%q) = %v, want nothing", text, got)
		}
	}
}

// Only the double opt-in request may ask for YES: there YES is exactly the
// opt-in it names; anywhere else it is a keyword trap.
func TestLintYESOnlyInTheOptInRequest(t *testing.T) {
	ask := "{{.PracticeName}} texts: reply YES to join, about {{.PerWeek}} a week. Msg & data rates may apply. Reply HELP for help. {{.OptOutLine}}"
	if got := lintOverride(t, map[string]string{"optin_request.en.sms.tmpl": ask}, "optin_request.en.sms.tmpl", RuleKeywordTrap); len(got) != 0 {
		t.Errorf("the opt-in request asking for YES: %v", got)
	}
	if got := lintOverride(t, map[string]string{"help.en.sms.tmpl": ask + " {{.EmergencyFooter}}"}, "help.en.sms.tmpl", RuleKeywordTrap); len(got) == 0 {
		t.Error("a help text asking for YES passed the lint")
	}
}
