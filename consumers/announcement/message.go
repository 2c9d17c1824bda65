package announcement

import (
	"errors"
	"fmt"
	"slices"

	"github.com/nudgehq/nudge/consumers"
	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/vocab"
	"github.com/nudgehq/nudge/templates"
)

// Message is what staff asked to send: their own body, or a named template.
type Message struct {
	Template string
	Body     string
	Channels []vocab.Channel
	Urgent   bool
}

// Errors of a message that can never be sent.
var (
	ErrUnknownTemplate = errors.New("announcement: unknown template")
	ErrLint            = errors.New("announcement: the body did not pass the lint")
)

// Content checks messages and renders them. Safe for concurrent use.
type Content struct {
	Templates *templates.Set
	Lint      templates.LintConfig
	Practice  consumers.Practice
}

// kind is the template a message renders with.
func (m Message) kind() string {
	if m.Template != "" {
		return m.Template
	}
	return templates.KindAnnouncement
}

// Findings lints staff's own body for health words and keyword traps; a
// named template was linted when the templates were loaded.
func (c Content) Findings(m Message) []templates.Finding {
	if m.Body == "" {
		return nil
	}
	return templates.LintBody(m.Body, c.Lint)
}

// Refusal returns why m may not be sent: ErrUnknownTemplate, or ErrLint
// when the lint found errors and nobody overrode it. An override reason
// lets a linted body through (the caller checks who may override).
func (c Content) Refusal(m Message, lintOverrideReason string) error {
	if m.Template != "" {
		for _, ch := range channelsOrAll(m.Channels) {
			if _, err := c.Templates.Vars(m.Template, templates.FallbackLocale, ch); err != nil {
				return fmt.Errorf("%w %q on %s", ErrUnknownTemplate, m.Template, ch)
			}
		}
	}
	if lintOverrideReason != "" {
		return nil
	}
	for _, f := range c.Findings(m) {
		if f.Severity == templates.SeverityError {
			return fmt.Errorf("%w: %s", ErrLint, f.Message)
		}
	}
	return nil
}

func channelsOrAll(chs []vocab.Channel) []vocab.Channel {
	if len(chs) == 0 {
		return vocab.Channels()
	}
	return chs
}

// Notification is the notification one recipient's message travels as.
func Notification(a store.Announcement, clientID string, channel vocab.Channel) consumers.Notification {
	n := consumers.Notification{
		Key: Key(a.ID, clientID, channel), ClientID: clientID, Channel: channel,
		Purpose: vocab.Announcements, Kind: Message{Template: a.Template}.kind(), Urgent: a.Urgent,
		AnnouncementID: a.ID,
	}
	if a.Body != "" {
		n.Vars = map[string]any{"Body": a.Body}
	}
	return n
}

// Sample renders the message as one client would read it on channel, with
// the same variables the deliverer adds.
func (c Content) Sample(m Message, client store.Client, channel vocab.Channel) (templates.Message, error) {
	vars := templates.CommonVars(client.Locale, c.Practice.CrisisLine)
	vars["PracticeName"] = c.Practice.Name
	vars["FirstName"] = client.FirstName
	if channel == vocab.Email {
		vars["PracticePostalAddress"] = c.Practice.PostalAddress
		vars["UnsubscribeURL"] = c.Practice.PublicURL + "/u/sample"
	}
	if m.Body != "" {
		vars["Body"] = m.Body
	}
	return c.Templates.Render(m.kind(), client.Locale, channel, vars)
}

// sampleChannel is the channel the preview's sample is shown for.
func sampleChannel(m Message) vocab.Channel {
	if chs := channelsOrAll(m.Channels); !slices.Contains(chs, vocab.SMS) {
		return chs[0]
	}
	return vocab.SMS
}
