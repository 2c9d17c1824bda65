package fakeprovider

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/mail"
	"slices"
	"strings"
)

// sgMail is the part of the v3 mail send body the fake understands.
// Unknown fields are ignored, as SendGrid ignores them.
type sgMail struct {
	Personalizations []sgPersonalization `json:"personalizations"`
	From             *sgAddress          `json:"from"`
	ReplyTo          *sgAddress          `json:"reply_to"`
	Subject          string              `json:"subject"`
	Content          []sgContent         `json:"content"`
	TemplateID       string              `json:"template_id"`
	CustomArgs       map[string]any      `json:"custom_args"`
	Headers          map[string]any      `json:"headers"`
	Categories       []string            `json:"categories"`
}

type sgPersonalization struct {
	To         []sgAddress    `json:"to"`
	Cc         []sgAddress    `json:"cc"`
	Bcc        []sgAddress    `json:"bcc"`
	Subject    string         `json:"subject"`
	CustomArgs map[string]any `json:"custom_args"`
	Headers    map[string]any `json:"headers"`
}

type sgAddress struct {
	Email string `json:"email"`
	Name  string `json:"name"`
}

type sgContent struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

const (
	maxPersonalizations = 1000
	maxRecipients       = 1000
	maxCustomArgsBytes  = 10000
)

// validate applies SendGrid's documented mail send rules and returns every
// violation, as SendGrid does.
func (m *sgMail) validate() []sgError {
	var errs []sgError
	add := func(field, msg string) { errs = append(errs, fieldError(field, msg)) }

	switch {
	case len(m.Personalizations) == 0:
		add("personalizations", "The personalizations field is required and must have at least one personalization.")
	case len(m.Personalizations) > maxPersonalizations:
		add("personalizations", fmt.Sprintf("The personalizations field must contain no more than %d personalizations.", maxPersonalizations))
	}
	allHaveSubject := len(m.Personalizations) > 0
	for i, p := range m.Personalizations {
		base := fmt.Sprintf("personalizations.%d", i)
		if p.Subject == "" {
			allHaveSubject = false
		}
		if len(p.To) == 0 {
			add(base+".to", "The to array is required for all personalization objects, and must have at least one email object with a valid email address.")
		}
		if n := len(p.To) + len(p.Cc) + len(p.Bcc); n > maxRecipients {
			add(base, fmt.Sprintf("The number of recipients in a personalization must not exceed %d.", maxRecipients))
		}
		seen := map[string]bool{}
		for _, group := range []struct {
			kind string
			list []sgAddress
		}{{"to", p.To}, {"cc", p.Cc}, {"bcc", p.Bcc}} {
			kind := group.kind
			for j, a := range group.list {
				if !validEmail(a.Email) {
					add(fmt.Sprintf("%s.%s.%d.email", base, kind, j), "Does not contain a valid address.")
					continue
				}
				key := strings.ToLower(a.Email)
				if seen[key] {
					add(base+"."+kind, "Each email address in the personalization block should be unique between to, cc, and bcc.")
				}
				seen[key] = true
			}
		}
		errs = append(errs, checkCustomArgs(base+".custom_args", p.CustomArgs)...)
		errs = append(errs, checkHeaders(base+".headers", p.Headers)...)
	}
	errs = append(errs, checkHeaders("headers", m.Headers)...)
	switch {
	case m.From == nil || m.From.Email == "":
		add("from.email", `The from object must be provided for every email send. It is an object that requires the email parameter, but may also contain a name parameter.  e.g. {"email" : "example@example.com"}  or {"email" : "example@example.com", "name" : "Example Recipient"}.`)
	case !validEmail(m.From.Email):
		add("from.email", "The from email does not contain a valid address.")
	}
	if m.ReplyTo != nil && !validEmail(m.ReplyTo.Email) {
		add("reply_to.email", "The reply_to email does not contain a valid address.")
	}
	if m.TemplateID == "" && m.Subject == "" && !allHaveSubject {
		add("subject", "The subject is required. You can get around this requirement if you use a template with a subject defined or if every personalization has a subject defined.")
	}
	if m.TemplateID == "" && len(m.Content) == 0 {
		add("content", "Unless a valid template_id is provided, the content parameter is required. There must be at least one defined content block. We typically suggest both text/plain and text/html blocks are included, but only one block is required.")
	}
	for i, c := range m.Content {
		if c.Type == "" {
			add(fmt.Sprintf("content.%d.type", i), "The content type cannot contain ';', or CRLF characters and must be at least one character long.")
		}
		if c.Value == "" {
			add(fmt.Sprintf("content.%d.value", i), "The content value must be a string at least one character in length.")
		}
		if c.Type == "text/plain" && i > 0 {
			add(fmt.Sprintf("content.%d.type", i), "The text/plain content type must be first, followed by text/html, and then any other content.")
		}
	}
	errs = append(errs, checkCustomArgs("custom_args", m.CustomArgs)...)
	return errs
}

func checkCustomArgs(field string, args map[string]any) []sgError {
	var errs []sgError
	for _, k := range slices.Sorted(maps.Keys(args)) {
		if _, ok := args[k].(string); !ok {
			v := args[k]
			errs = append(errs, fieldError(field+"."+k, fmt.Sprintf("Invalid type. Expected: string, given: %s.", jsonType(v))))
		}
	}
	if b, _ := json.Marshal(args); len(b) > maxCustomArgsBytes {
		errs = append(errs, fieldError(field, "The custom_args size must not exceed 10,000 bytes."))
	}
	return errs
}

// reservedHeaders are set by SendGrid itself and refused in headers.
var reservedHeaders = []string{"x-sg-id", "x-sg-eid", "received", "dkim-signature", "content-type",
	"content-transfer-encoding", "to", "from", "subject", "reply-to", "cc", "bcc"}

// checkHeaders applies SendGrid's rules for the headers object: string
// values, and none of the headers SendGrid sets itself.
func checkHeaders(field string, headers map[string]any) []sgError {
	var errs []sgError
	for _, k := range slices.Sorted(maps.Keys(headers)) {
		if _, ok := headers[k].(string); !ok {
			errs = append(errs, fieldError(field+"."+k, fmt.Sprintf("Invalid type. Expected: string, given: %s.", jsonType(headers[k]))))
		}
		if slices.Contains(reservedHeaders, strings.ToLower(k)) {
			errs = append(errs, fieldError(field, fmt.Sprintf("The header %q is reserved and cannot be set.", k)))
		}
	}
	return errs
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64:
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "string"
}

// validEmail accepts a bare address with a dotted domain.
func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s {
		return false
	}
	_, domain, _ := strings.Cut(s, "@")
	return strings.Contains(domain, ".") && !strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".")
}
