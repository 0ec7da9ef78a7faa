package catalog

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxDescriptionTerms bounds the description words a listing keeps for search, so one long
// description cannot grow the snapshot without limit (docs/decisions/0060).
const MaxDescriptionTerms = 300

// Tokens splits text into lower-case words of letters and digits, in order (duplicates kept).
// One-letter words are dropped except digits ("c", "r" and "x" are too common to search by).
func Tokens(text string) []string {
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	out := words[:0]
	for _, w := range words {
		if len(w) > 1 && (len(w) > 2 || utf8.RuneCountInString(w) > 1) || w[0] >= '0' && w[0] <= '9' {
			out = append(out, w)
		}
	}
	return out
}

// stopwords are English words too common to search by; they are left out of description terms
// (titles keep them: "the art of war" still matches its own title).
var stopwords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`a an and are as at be but by for from has have in is it its
		of on or that the this to was were will with you your we our can how what all into`) {
		stopwords[w] = true
	}
}

// DescriptionTerms returns the distinct words of a description that the title, subtitle and tags
// (exclude) do not already give, without stopwords, at most MaxDescriptionTerms, space-separated.
func DescriptionTerms(description string, exclude ...string) string {
	seen := map[string]bool{}
	for _, e := range exclude {
		for _, w := range Tokens(e) {
			seen[w] = true
		}
	}
	var out []string
	for _, w := range Tokens(description) {
		if seen[w] || stopwords[w] {
			continue
		}
		seen[w] = true
		out = append(out, w)
		if len(out) == MaxDescriptionTerms {
			break
		}
	}
	return strings.Join(out, " ")
}
