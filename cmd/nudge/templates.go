package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/nudgehq/nudge/internal/vocab"
	"github.com/nudgehq/nudge/templates"
)

type templatesCmd struct {
	Lint   templatesLintCmd   `cmd:"" help:"Check templates: SMS encoding and segments, health words, keyword traps, opt-out lines, footers."`
	Render templatesRenderCmd `cmd:"" help:"Render one template with sample values, to preview it."`
}

type templatesLintCmd struct {
	Dir          string `help:"Directory of template overrides to lint with the shipped ones." type:"existingdir" placeholder:"DIR" env:"NUDGE_TEMPLATES_DIR"`
	PracticeName string `help:"Lint with the practice's real name (some names leak health details)." placeholder:"NAME"`
	CrisisLine   string `help:"Crisis line the footer names." default:"988"`
}

func loadTemplates(dir string) (*templates.Set, error) {
	if dir == "" {
		return templates.Load(nil)
	}
	return templates.Load(os.DirFS(dir))
}

func (c *templatesLintCmd) Run(g *globals) error {
	set, err := loadTemplates(c.Dir)
	if err != nil {
		return err
	}
	cfg := templates.DefaultLintConfig()
	if c.PracticeName != "" || c.CrisisLine != "" {
		if cfg.Vars == nil {
			cfg.Vars = map[string]any{}
		}
		if c.PracticeName != "" {
			cfg.Vars["PracticeName"] = c.PracticeName
		}
		if c.CrisisLine != "" {
			for k, v := range templates.CommonVars("en", c.CrisisLine) {
				if k == "CrisisLine" {
					cfg.Vars[k] = v
				}
			}
		}
	}
	findings := templates.Lint(set, cfg)
	errs := 0
	for _, f := range findings {
		fmt.Fprintln(g.stdout, f.String())
		if f.Severity == templates.SeverityError {
			errs++
		}
	}
	fmt.Fprintf(g.stdout, "%d template kinds checked: %d errors, %d warnings\n", len(set.Kinds()), errs, len(findings)-errs)
	if errs > 0 {
		return exitError{1, fmt.Sprintf("%d template error(s)", errs)}
	}
	return nil
}

type templatesRenderCmd struct {
	Kind    string        `arg:"" help:"Template kind: reminder, booked, encouragement, journal_nudge, announcement, confirmed, help, opted_out, crisis …"`
	Channel vocab.Channel `help:"sms or email." default:"sms" enum:"sms,email"`
	Locale  string        `help:"Locale, e.g. en, es, es-MX." default:"en"`
	Dir     string        `help:"Directory of template overrides." type:"existingdir" placeholder:"DIR" env:"NUDGE_TEMPLATES_DIR"`
	Var     []string      `help:"Template variable as NAME=VALUE (repeatable); unset ones get samples." placeholder:"NAME=VALUE"`
}

func (c *templatesRenderCmd) Run(g *globals) error {
	set, err := loadTemplates(c.Dir)
	if err != nil {
		return err
	}
	vars := templates.CommonVars(c.Locale, "988")
	samples := map[string]any{
		"FirstName": "Ada", "PracticeName": "Harbor Practice", "PracticePostalAddress": "1 Main St, Springfield",
		"UnsubscribeURL": "https://nudge.example.org/u/dlv_example",
		"When":           templates.FormatWhen(time.Date(2026, 12, 3, 15, 0, 0, 0, time.UTC), time.UTC, c.Locale),
		"Link":           "https://video.example.org/room", "LocationKind": "telehealth", "Body": "Our group meets Thursday at 6.",
	}
	if lines := set.Lines(c.Kind, c.Locale); len(lines) > 0 {
		samples["Message"] = lines[0]
	}
	for k, v := range samples {
		if _, ok := vars[k]; !ok {
			vars[k] = v
		}
	}
	for _, kv := range c.Var {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return fmt.Errorf("--var %q: want NAME=VALUE", kv)
		}
		vars[k] = v
	}
	m, err := set.Render(c.Kind, c.Locale, c.Channel, vars)
	if err != nil {
		return err
	}
	if c.Channel == vocab.SMS {
		enc, segs := templates.SMSInfo(m.Text)
		fmt.Fprintf(g.stdout, "%s\n\n(%s, %d segment(s), %d characters)\n", m.Text, enc, segs, len([]rune(m.Text)))
		return nil
	}
	fmt.Fprintf(g.stdout, "Subject: %s\n\n%s\n\n--- HTML ---\n%s\n", m.Subject, m.Text, m.HTML)
	return nil
}
