package templates

import "unicode/utf8"

// SMS encodings reported by SMSInfo.
const (
	EncodingGSM7 = "GSM-7"
	EncodingUCS2 = "UCS-2"
)

// Segment sizes from 3GPP TS 23.040: a single message holds 160 GSM-7
// septets or 70 UCS-2 code units; once concatenated, each part loses room
// to the user-data header and holds 153 or 67.
const (
	gsmSingle  = 160
	gsmMulti   = 153
	ucs2Single = 70
	ucs2Multi  = 67
)

// gsmBasic is the GSM 03.38 default alphabet, in table order, without the
// escape code 0x1B (which only introduces the extension table).
const gsmBasic = "@£$¥èéùìòÇ\nØø\rÅå" +
	"Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ" +
	" !\"#¤%&'()*+,-./" +
	"0123456789:;<=>?" +
	"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§" +
	"¿abcdefghijklmnopqrstuvwxyzäöñüà"

// gsmExtension is the GSM 03.38 extension table: each of these costs two
// septets (escape + code).
const gsmExtension = "\f^{}\\[~]|€"

var gsmSeptets = func() map[rune]int {
	m := make(map[rune]int, 140)
	for _, r := range gsmBasic {
		m[r] = 1
	}
	for _, r := range gsmExtension {
		m[r] = 2
	}
	return m
}()

// SMSInfo reports how text would be sent as SMS: its encoding (EncodingGSM7
// when every character is in the GSM 03.38 alphabet or its extension table,
// EncodingUCS2 otherwise) and how many segments it takes. Extension
// characters such as € and [ count as two septets, characters outside the
// Basic Multilingual Plane (most emoji) as two UCS-2 code units, and neither
// pair is split across segments, as carriers require. Empty text is GSM-7
// with zero segments.
func SMSInfo(text string) (encoding string, segments int) {
	if gsmEncodable(text) {
		return EncodingGSM7, countSegments(text, gsmSingle, gsmMulti, func(r rune) int { return gsmSeptets[r] })
	}
	return EncodingUCS2, countSegments(text, ucs2Single, ucs2Multi, utf16Units)
}

// nonGSM returns the distinct characters of text that force UCS-2, in order
// of appearance.
func nonGSM(text string) []rune {
	var out []rune
	seen := map[rune]bool{}
	for _, r := range text {
		if gsmSeptets[r] == 0 && !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	return out
}

func gsmEncodable(text string) bool {
	for _, r := range text {
		if gsmSeptets[r] == 0 {
			return false
		}
	}
	return true
}

func utf16Units(r rune) int {
	if r > 0xFFFF && r <= utf8.MaxRune {
		return 2
	}
	return 1
}

// countSegments packs text into segments of at most multi units each, never
// splitting one character's units, unless the whole text fits in single.
func countSegments(text string, single, multi int, units func(rune) int) int {
	total := 0
	for _, r := range text {
		total += units(r)
	}
	switch {
	case total == 0:
		return 0
	case total <= single:
		return 1
	}
	segments, used := 1, 0
	for _, r := range text {
		n := units(r)
		if used+n > multi {
			segments++
			used = 0
		}
		used += n
	}
	return segments
}
