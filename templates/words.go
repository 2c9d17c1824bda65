package templates

import (
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// defaultHealthWords are words that reveal a diagnosis, a modality or a
// clinician's specialty to whoever glances at a lock screen (PRODUCT.md
// invariant 8 in docs/invariants.md), in English and Spanish. Matching ignores case and accents
// and is by whole words, so "add" or "act" (too common to list) and
// "trauma" inside "traumatology" are not confused.
var defaultHealthWords = []string{
	// English: diagnoses and conditions.
	"depression", "depressed", "depressive", "anxiety", "anxiety disorder", "panic attack", "panic attacks",
	"panic disorder", "PTSD", "post-traumatic", "trauma", "traumatic", "bipolar", "OCD", "ADHD",
	"autism", "autistic", "schizophrenia", "psychosis", "psychotic", "eating disorder", "anorexia",
	"bulimia", "binge eating", "addiction", "addicted", "substance", "substance use", "alcoholism",
	"sobriety", "relapse", "rehab", "self-harm", "suicide", "suicidal", "personality disorder",
	"borderline", "BPD", "disorder", "diagnosis", "diagnosed", "mental illness", "mental health",
	"insomnia", "abuse", "domestic violence", "medication", "antidepressant", "antidepressants",
	"prescription",
	// English: modalities and specialties.
	"EMDR", "CBT", "DBT", "psychiatrist", "psychiatric", "psychiatry", "psychologist", "psychotherapy",
	"psychotherapist", "couples therapy", "couples counseling", "marriage counseling", "family therapy",
	"group therapy", "exposure therapy", "hypnotherapy", "play therapy",
	// Spanish.
	"depresión", "deprimido", "deprimida", "ansiedad", "ataque de pánico", "ataques de pánico", "TEPT",
	"estrés postraumático", "trauma", "traumático", "bipolar", "TOC", "TDAH", "autismo",
	"esquizofrenia", "psicosis", "trastorno", "trastornos", "trastorno alimentario",
	"trastorno de la conducta alimentaria", "anorexia", "bulimia", "adicción", "adicciones",
	"sustancias", "alcoholismo", "recaída", "autolesión", "autolesiones", "suicidio", "suicida",
	"diagnóstico", "salud mental", "enfermedad mental", "insomnio", "abuso", "violencia doméstica",
	"medicación", "antidepresivo", "antidepresivos", "TCC", "TDC", "psiquiatra", "psiquiátrico",
	"psiquiatría", "psicólogo", "psicóloga", "psicoterapia", "psicoterapeuta", "terapia de pareja",
	"terapia familiar", "terapia de grupo", "terapia grupal",
}

// defaultShamingWords are words that count, compare or scold; gentle
// messages (encouragement, journal nudges) must not use them.
var defaultShamingWords = []string{
	"streak", "streaks", "missed", "you forgot", "failed", "failure", "lazy", "behind", "should have",
	"in a row", "racha", "rachas", "fallaste", "olvidaste", "te saltaste", "seguidos", "seguidas",
	"deberías haber",
}

// fold lower-cases s and strips its accents, so that "Depresión" and
// "depresion" compare equal; compatibility forms (fullwidth letters) fold
// to their plain forms too.
func fold(s string) string {
	return strings.ToLower(unaccent(s))
}

// unaccent strips accents and folds compatibility forms, keeping case.
func unaccent(s string) string {
	t := transform.Chain(norm.NFKD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		return s
	}
	return out
}

// words splits folded text into words: runs of letters and digits.
func words(s string) []string {
	return strings.FieldsFunc(fold(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsNumber(r)
	})
}

// phraseMatcher finds whole-word phrases in text, ignoring case, accents
// and the punctuation between words ("self-harm" matches "self harm").
type phraseMatcher struct {
	phrases []phrase
}

type phrase struct {
	original string
	words    []string
}

func newPhraseMatcher(list []string) phraseMatcher {
	var m phraseMatcher
	for _, p := range list {
		if w := words(p); len(w) > 0 {
			m.phrases = append(m.phrases, phrase{original: p, words: w})
		}
	}
	return m
}

// find returns the phrases (as configured) that occur in text, each once,
// in configuration order.
func (m phraseMatcher) find(text string) []string {
	ws := words(text)
	var out []string
	seen := map[string]bool{}
	for _, p := range m.phrases {
		key := strings.Join(p.words, " ")
		if seen[key] || !containsRun(ws, p.words) {
			continue
		}
		seen[key] = true
		out = append(out, p.original)
	}
	return out
}

func containsRun(ws, run []string) bool {
	for i := 0; i+len(run) <= len(ws); i++ {
		match := true
		for j, w := range run {
			if ws[i+j] != w {
				match = false
				break
			}
		}
		if match {
			return true
		}
	}
	return false
}
