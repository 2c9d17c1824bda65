package httpapi

import "encoding/json"

// rawJSONOrString returns b as embedded JSON when it is valid JSON, else as
// a string, so an API response never breaks on a foreign payload.
func rawJSONOrString(b []byte) any {
	if json.Valid(b) {
		return json.RawMessage(b)
	}
	return string(b)
}
