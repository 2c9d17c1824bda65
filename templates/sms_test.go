package templates

import (
	"strings"
	"testing"
)

func TestSMSInfo(t *testing.T) {
	tests := []struct {
		name     string
		text     string
		encoding string
		segments int
	}{
		{"empty", "", EncodingGSM7, 0},
		{"plain ASCII", "Reply C to confirm.", EncodingGSM7, 1},
		{"160 GSM-7 fits one", strings.Repeat("a", 160), EncodingGSM7, 1},
		{"161 GSM-7 needs two", strings.Repeat("a", 161), EncodingGSM7, 2},
		{"306 GSM-7 is two", strings.Repeat("a", 306), EncodingGSM7, 2},
		{"307 GSM-7 is three", strings.Repeat("a", 307), EncodingGSM7, 3},
		{"euro counts two septets", strings.Repeat("€", 80), EncodingGSM7, 1},
		{"81 euros need two", strings.Repeat("€", 81), EncodingGSM7, 2},
		{"brackets count two", strings.Repeat("[", 80) + "a", EncodingGSM7, 2},
		{"all extension characters are GSM-7", "^{}\\[~]|€\f", EncodingGSM7, 1},
		// 152 plain septets then "{": the escape pair would straddle the
		// boundary of the first segment, so it moves whole to the second.
		{"escape pair not split", strings.Repeat("a", 152) + "{" + strings.Repeat("a", 152), EncodingGSM7, 3},
		{"one í makes Spanish UCS-2", "¿Mañana? ¡Sí, qué bien!", EncodingUCS2, 1},
		{"ñ é ü Ñ Ü ¿ ¡ à ò ù ì è Ç ß Å Ø Æ are GSM-7", "ñéüÑÜ¿¡àòùìèÇßÅØÆ", EncodingGSM7, 1},
		{"Greek capitals in the table are GSM-7", "ΔΦΓΛΩΠΨΣΘΞ", EncodingGSM7, 1},
		{"á is not GSM-7", "más", EncodingUCS2, 1},
		{"lower-case ç is not in the table", "façade", EncodingUCS2, 1},
		{"curly apostrophe is not GSM-7", "you’re", EncodingUCS2, 1},
		{"backtick is not GSM-7", "`", EncodingUCS2, 1},
		{"70 UCS-2 fit one", strings.Repeat("á", 70), EncodingUCS2, 1},
		{"71 UCS-2 need two", strings.Repeat("á", 71), EncodingUCS2, 2},
		{"134 UCS-2 are two", strings.Repeat("á", 134), EncodingUCS2, 2},
		{"135 UCS-2 are three", strings.Repeat("á", 135), EncodingUCS2, 3},
		{"emoji is two UCS-2 units", strings.Repeat("🙂", 35), EncodingUCS2, 1},
		{"36 emoji need two", strings.Repeat("🙂", 36), EncodingUCS2, 2},
		// 66 units then an emoji: the surrogate pair would straddle the
		// boundary, so it moves whole to the second segment.
		{"surrogate pair not split", strings.Repeat("a", 66) + "🙂" + strings.Repeat("a", 66), EncodingUCS2, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc, n := SMSInfo(tt.text)
			if enc != tt.encoding || n != tt.segments {
				t.Errorf("SMSInfo(%q) = %s, %d; want %s, %d", tt.text, enc, n, tt.encoding, tt.segments)
			}
		})
	}
}

// The GSM 03.38 default alphabet has 128 positions, one of them the escape
// code, and the extension table has ten printable characters.
func TestGSMTableSize(t *testing.T) {
	basic, ext := 0, 0
	for _, n := range gsmSeptets {
		switch n {
		case 1:
			basic++
		case 2:
			ext++
		}
	}
	if basic != 127 || ext != 10 {
		t.Errorf("basic %d, extension %d; want 127, 10", basic, ext)
	}
}
