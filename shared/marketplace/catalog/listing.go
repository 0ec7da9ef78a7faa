// Package catalog is the marketplace's public catalog: the listing item every course has (its
// searchable fields, rating aggregate and enrolment count), the compact search snapshot built from
// the published listings and kept in S3, and GET /courses, which answers from that snapshot cached
// in the function by a version stamp — one DynamoDB read per request whatever the catalog's size
// (docs/decisions/0060). It links no Stripe client.
package catalog

import (
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/liberation/monetization/shared/store"
)

// Course statuses.
const (
	StatusDraft       = "draft"
	StatusPublished   = "published"
	StatusUnpublished = "unpublished"
)

// Levels a course may have.
var Levels = []string{"beginner", "intermediate", "advanced", "all"}

// Categories a course may be filed under.
var Categories = []string{"business", "design", "development", "finance", "health-fitness", "it-software",
	"language", "lifestyle", "marketing", "music", "office-productivity", "personal-development",
	"photography", "teaching-academics"}

var languagePattern = regexp.MustCompile(`^[a-z]{2}(-[A-Z]{2})?$`)

// ValidLanguage reports a language tag of the form "en" or "pt-BR".
func ValidLanguage(s string) bool { return languagePattern.MatchString(s) }

// ValidLevel and ValidCategory report members of Levels and Categories.
func ValidLevel(s string) bool { return contains(Levels, s) }

// ValidCategory reports a member of Categories.
func ValidCategory(s string) bool { return contains(Categories, s) }

func contains(xs []string, x string) bool { return slices.Contains(xs, x) }

// Listing is a course's catalog item (store.ListingKey): what search needs, plus the counters that
// change with reviews and enrolments. Every course has one from its creation, so the counters can
// be ADDed in any transaction without creating a half item (its items: repo_catalog.go).
type Listing struct {
	PK             string     `dynamodbav:"PK"`
	SK             string     `dynamodbav:"SK"`
	Type           string     `dynamodbav:"type"`
	CourseID       string     `dynamodbav:"courseId"`
	InstructorID   string     `dynamodbav:"instructorId"`
	InstructorName string     `dynamodbav:"instructorName"`
	Title          string     `dynamodbav:"title"`
	Subtitle       string     `dynamodbav:"subtitle,omitempty"`
	Category       string     `dynamodbav:"category"`
	Level          string     `dynamodbav:"level"`
	Language       string     `dynamodbav:"language"`
	Tags           []string   `dynamodbav:"tags,omitempty"`
	Terms          string     `dynamodbav:"terms,omitempty"` // DescriptionTerms of the description
	PriceCents     int64      `dynamodbav:"priceCents"`
	Status         string     `dynamodbav:"status"`
	PublishedAt    *time.Time `dynamodbav:"publishedAt,omitempty"`
	UpdatedAt      time.Time  `dynamodbav:"updatedAt"`
	// Counters (ADD only).
	RatingSum   int64 `dynamodbav:"ratingSum"`
	RatingCount int64 `dynamodbav:"ratingCount"`
	R1          int64 `dynamodbav:"r1"`
	R2          int64 `dynamodbav:"r2"`
	R3          int64 `dynamodbav:"r3"`
	R4          int64 `dynamodbav:"r4"`
	R5          int64 `dynamodbav:"r5"`
	Enrollments int64 `dynamodbav:"enrollments"`
}

// Counter attribute names on a listing.
const (
	CtrRatingSum   = "ratingSum"
	CtrRatingCount = "ratingCount"
	CtrEnrollments = "enrollments"
)

// CtrStars is the histogram counter of a rating (1..5).
func CtrStars(rating int) string { return "r" + strconv.Itoa(rating) }

// Histogram returns the 1..5 counts.
func (l Listing) Histogram() [5]int64 { return [5]int64{l.R1, l.R2, l.R3, l.R4, l.R5} }

// SetKeys fills the listing's key.
func (l *Listing) SetKeys() {
	k := store.ListingKey(l.CourseID)
	l.PK, l.SK, l.Type = k.PK, k.SK, "listing"
}

// RatingAverageX100 is the average rating in hundredths, rounded half up (4.67 → 467), 0 without
// ratings. Integer arithmetic: sorting and filtering never depend on float rounding.
func RatingAverageX100(sum, count int64) int64 {
	if count <= 0 {
		return 0
	}
	return (sum*100 + count/2) / count
}

// RatingAverage is RatingAverageX100 as a number with two decimals (what the API shows).
func RatingAverage(sum, count int64) float64 { return float64(RatingAverageX100(sum, count)) / 100 }
