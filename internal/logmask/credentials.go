package logmask

import (
	"regexp"
	"strings"
)

// Redacted replaces a credential in logs and errors.
const Redacted = "xxxxx"

// A URL's userinfo: "scheme://user:password@" keeps the user and loses the
// password; "scheme://token@" (NATS token auth) loses the token. The
// password is matched greedily up to the last "@" of the authority, so a
// password with a raw "@" in it is hidden whole.
var (
	userPassword = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.\-]*://)([^\s/?#@:"'<>]*):([^\s/?#"'<>]*)@`)
	userOnly     = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.\-]*://)([^\s/?#@:"'<>]+)@`)
	// Key-value connection strings and query parameters:
	// "password=secret", "?token=abc&...".
	secretParam = regexp.MustCompile(`(?i)\b(password|passwd|pwd|token|secret|api_key|apikey)=([^\s&;"']+)`)
)

// Credentials returns s with the credentials of every URL in it redacted
// ("nats://nudge:s3cret@nats-1:4222" becomes "nats://nudge:xxxxx@nats-1:4222")
// as well as password=, token= and secret= parameters. It returns s itself
// when there is nothing to redact. [String] and the [Handler] apply it to
// every log line; errors that quote a URL apply it where they are built.
func Credentials(s string) string {
	if strings.Contains(s, "://") && strings.IndexByte(s, '@') >= 0 {
		s = userPassword.ReplaceAllString(s, "${1}${2}:"+Redacted+"@")
		s = userOnly.ReplaceAllString(s, "${1}"+Redacted+"@")
	}
	if strings.IndexByte(s, '=') >= 0 && secretParam.MatchString(s) {
		s = secretParam.ReplaceAllStringFunc(s, func(m string) string {
			k, v, _ := strings.Cut(m, "=")
			if v == Redacted {
				return m
			}
			return k + "=" + Redacted
		})
	}
	return s
}
