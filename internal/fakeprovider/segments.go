package fakeprovider

import (
	"strings"
	"unicode/utf16"
)

// GSM 03.38 default alphabet and its extension table (each extension
// character costs two septets).
const (
	gsmBasic     = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	gsmExtension = "^{}\\[~]|€\f"
)

// segments counts SMS segments as carriers do: 160 GSM-7 septets or 70
// UCS-2 code units in one segment, 153 / 67 per segment once concatenated.
func segments(body string) int {
	septets, gsm := 0, true
	for _, r := range body {
		switch {
		case strings.ContainsRune(gsmBasic, r):
			septets++
		case strings.ContainsRune(gsmExtension, r):
			septets += 2
		default:
			gsm = false
		}
	}
	if gsm {
		return count(septets, 160, 153)
	}
	return count(len(utf16.Encode([]rune(body))), 70, 67)
}

func count(units, single, multi int) int {
	if units <= single {
		return 1
	}
	return (units + multi - 1) / multi
}
