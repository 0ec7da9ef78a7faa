// Package catalogtest generates catalogs for tests and benchmarks.
package catalogtest

import (
	"fmt"
	"math/rand"
	"strings"
	"time"

	"github.com/liberation/monetization/shared/marketplace/catalog"
)

// SyntheticListings returns n published listings with realistic text (titles of 3–6 words, a
// subtitle, tags and an 80-word description drawn from a 3,000-word vocabulary) and spread prices,
// ratings and enrolments: the catalog the benchmarks measure search on (docs/performance.md).
func SyntheticListings(n int, seed int64) []catalog.Listing {
	rng := rand.New(rand.NewSource(seed))
	vocab := make([]string, 3000)
	syll := []string{"ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "ze", "bo", "da", "fe", "gi", "ho", "ju", "pe", "qua", "ri", "su", "ty"}
	for i := range vocab {
		var b strings.Builder
		for j := 0; j < 2+i%3; j++ {
			b.WriteString(syll[(i*7+j*13+i/20)%len(syll)])
		}
		vocab[i] = fmt.Sprintf("%s%d", b.String(), i%10)
	}
	// Zipf-like word choice: a few words are common, most rare, as in real text.
	zipf := rand.NewZipf(rng, 1.2, 2, uint64(len(vocab)-1))
	words := func(k int) string {
		out := make([]string, k)
		for i := range out {
			out[i] = vocab[zipf.Uint64()]
		}
		return strings.Join(out, " ")
	}
	prices := []int64{0, 999, 1499, 1999, 2995, 4999, 9999}
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	out := make([]catalog.Listing, n)
	for i := range out {
		at := base.Add(time.Duration(rng.Intn(365*24)) * time.Hour)
		count := int64(rng.Intn(400))
		title := words(3 + rng.Intn(4))
		subtitle := words(6)
		tags := strings.Fields(words(3))
		out[i] = catalog.Listing{CourseID: fmt.Sprintf("crs_%026d", i), InstructorID: fmt.Sprintf("ins-%d", i%300),
			InstructorName: "Instructor " + fmt.Sprint(i%300), Title: title, Subtitle: subtitle,
			Category: catalog.Categories[rng.Intn(len(catalog.Categories))], Level: catalog.Levels[rng.Intn(len(catalog.Levels))],
			Language: []string{"en", "en", "en", "es", "pt-BR", "fr", "de"}[rng.Intn(7)], Tags: tags,
			Terms: catalog.DescriptionTerms(words(80), title, subtitle, strings.Join(tags, " ")), PriceCents: prices[rng.Intn(len(prices))],
			Status: catalog.StatusPublished, PublishedAt: &at, UpdatedAt: at, RatingCount: count,
			RatingSum: count * int64(3+rng.Intn(3)), Enrollments: count * int64(1+rng.Intn(20))}
		out[i].SetKeys()
	}
	return out
}

// SyntheticQueries is the request mix the benchmarks send: browsing with filters and each sort,
// and searches of common and rare words, with a prefix on the last word.
func SyntheticQueries(ls []catalog.Listing) []map[string]string {
	common := strings.Fields(ls[0].Title)[0]
	rare := strings.Fields(ls[len(ls)/2].Subtitle)
	prefix := common[:len(common)-1]
	return []map[string]string{
		{},
		{"sort": catalog.SortRating, "category": "development"},
		{"sort": catalog.SortPopular, "level": "beginner", "limit": "50"},
		{"sort": catalog.SortPriceAsc, "free": "false", "minRating": "4"},
		{"q": common},
		{"q": prefix, "sort": catalog.SortNewest},
		{"q": rare[0] + " " + rare[1][:2]},
		{"q": common + " " + rare[2], "language": "en", "maxPrice": "4999"},
	}
}
