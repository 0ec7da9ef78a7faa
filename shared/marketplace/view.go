package marketplace

import (
	"context"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/blob"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/marketplace/catalog"
)

// RatingSummary is a course's rating aggregate, exact (kept in the review transactions).
type RatingSummary struct {
	Average   float64  `json:"average"`
	Count     int64    `json:"count"`
	Histogram [5]int64 `json:"histogram"` // counts of 1..5 stars
}

func ratingSummary(l catalog.Listing) RatingSummary {
	return RatingSummary{Average: catalog.RatingAverage(l.RatingSum, l.RatingCount), Count: l.RatingCount, Histogram: l.Histogram()}
}

// LessonTitle is a lesson as the public course page shows it: no content.
type LessonTitle struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Kind  string `json:"kind"`
}

// CourseDetail is the body of GET /courses/{courseId}.
type CourseDetail struct {
	ID              string        `json:"id"`
	InstructorName  string        `json:"instructorName"`
	Title           string        `json:"title"`
	Subtitle        string        `json:"subtitle,omitempty"`
	Description     string        `json:"description"`
	Category        string        `json:"category"`
	Level           string        `json:"level"`
	Language        string        `json:"language"`
	PriceCents      int64         `json:"priceCents"`
	Currency        string        `json:"currency"`
	Tags            []string      `json:"tags"`
	PublishedAt     string        `json:"publishedAt"`
	EnrollmentCount int64         `json:"enrollmentCount"`
	Rating          RatingSummary `json:"rating"`
	Lessons         []LessonTitle `json:"lessons"`
}

func readListing(ctx context.Context, d *Deps, courseID string) (catalog.Listing, error) {
	return d.Courses.Listing(ctx, courseID)
}

func wireGetCourse(w wiring) (httpapi.Lambda, error) { return HandleGetCourse(w.rt.Fn, w.d), nil }

// HandleGetCourse serves GET /courses/{courseId} (public): a published course with its lesson titles
// and rating summary. Drafts and unpublished courses are 404 here; their owner (or an admin) reads
// them through GET /courses/{courseId}/content, which needs a token (a public route carries none).
func HandleGetCourse(fn manifest.Function, d *Deps) httpapi.Lambda {
	return httpapi.Route(fn, func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		id, err := courseID(r)
		if err != nil {
			return httpapi.Response{}, err
		}
		c, err := loadCourse(ctx, d, id)
		if err != nil {
			return httpapi.Response{}, err
		}
		if c.Status != catalog.StatusPublished {
			return httpapi.Response{}, apperr.New(apperr.NotFound, "course not found")
		}
		ls, err := lessons(ctx, d, c.ID)
		if err != nil {
			return httpapi.Response{}, err
		}
		l, err := readListing(ctx, d, c.ID)
		if err != nil {
			return httpapi.Response{}, err
		}
		out := CourseDetail{ID: c.ID, InstructorName: c.InstructorName, Title: c.Title, Subtitle: c.Subtitle,
			Description: c.Description, Category: c.Category, Level: c.Level, Language: c.Language,
			PriceCents: c.PriceCents, Currency: Currency, Tags: c.Tags, EnrollmentCount: l.Enrollments,
			Rating: ratingSummary(l), Lessons: []LessonTitle{}}
		if out.Tags == nil {
			out.Tags = []string{}
		}
		if c.PublishedAt != nil {
			out.PublishedAt = rfc3339(*c.PublishedAt)
		}
		for _, x := range ls {
			if x.Uploaded {
				out.Lessons = append(out.Lessons, LessonTitle{ID: x.ID, Title: x.Title, Kind: x.Kind})
			}
		}
		return httpapi.OK(out), nil
	})
}

// ContentLesson is a lesson with a short-lived download link.
type ContentLesson struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Kind        string `json:"kind"`
	ContentType string `json:"contentType"`
	SizeBytes   int64  `json:"sizeBytes"`
	Uploaded    bool   `json:"uploaded"`
	URL         string `json:"url"`
	ExpiresAt   string `json:"expiresAt"`
}

// CourseContent is the body of GET /courses/{courseId}/content.
type CourseContent struct {
	Course  CourseView      `json:"course"`
	Access  string          `json:"access"` // enrolled | owner | admin
	Lessons []ContentLesson `json:"lessons"`
}

func wireGetCourseContent(w wiring) (httpapi.Lambda, error) {
	return HandleGetCourseContent(w.rt.Fn, w.d), nil
}

// HandleGetCourseContent serves GET /courses/{courseId}/content: the lessons with presigned GET URLs
// (5 minutes) for an enrolled learner (uploaded lessons), the course's instructor or an admin (every
// lesson, drafts included). Anyone else gets 403 — including after a full refund revoked access.
func HandleGetCourseContent(fn manifest.Function, d *Deps) httpapi.Lambda {
	return httpapi.Route(fn, func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		id, err := courseID(r)
		if err != nil {
			return httpapi.Response{}, err
		}
		c, err := loadCourse(ctx, d, id)
		if err != nil {
			return httpapi.Response{}, err
		}
		access := ""
		switch {
		case c.InstructorID == r.Principal.UserID:
			access = "owner"
		case r.Principal.IsAdmin():
			access = "admin"
		default:
			e, err := enrollment(ctx, d, r.Principal.UserID, c.ID)
			if err != nil && !apperr.Is(err, apperr.NotFound) {
				return httpapi.Response{}, err
			}
			if err != nil || !e.Active() {
				return httpapi.Response{}, apperr.New(apperr.Forbidden, "enrol in this course to read its content")
			}
			access = "enrolled"
		}
		ls, err := lessons(ctx, d, c.ID)
		if err != nil {
			return httpapi.Response{}, err
		}
		now := d.Clock.Now()
		out := CourseContent{Course: courseView(c), Access: access, Lessons: []ContentLesson{}}
		for _, l := range ls {
			if access == "enrolled" && !l.Uploaded {
				continue
			}
			url, err := d.Blobs.PresignGet(ctx, blob.Object{Key: l.ObjectKey, ContentType: l.ContentType}, DownloadURLTTL)
			if err != nil {
				return httpapi.Response{}, err
			}
			out.Lessons = append(out.Lessons, ContentLesson{ID: l.ID, Title: l.Title, Kind: l.Kind, ContentType: l.ContentType,
				SizeBytes: l.SizeBytes, Uploaded: l.Uploaded, URL: url, ExpiresAt: rfc3339(now.Add(DownloadURLTTL))})
		}
		return httpapi.OK(out), nil
	})
}

// ReviewView is a review as anyone may read it.
type ReviewView struct {
	CourseID   string `json:"courseId"`
	AuthorName string `json:"authorName"`
	Rating     int    `json:"rating"`
	Text       string `json:"text"`
	CreatedAt  string `json:"createdAt"`
	UpdatedAt  string `json:"updatedAt"`
}

func reviewView(rv Review) ReviewView {
	return ReviewView{CourseID: rv.CourseID, AuthorName: rv.AuthorName, Rating: rv.Rating, Text: rv.Text,
		CreatedAt: rfc3339(rv.CreatedAt), UpdatedAt: rfc3339(rv.UpdatedAt)}
}

// ReviewList is the body of GET /courses/{courseId}/reviews (httpapi.ListPage writes it, with
// the rating).
type ReviewList struct {
	Reviews    []ReviewView  `json:"reviews"`
	Rating     RatingSummary `json:"rating"`
	NextCursor string        `json:"nextCursor,omitempty"`
}

func wireListReviews(w wiring) (httpapi.Lambda, error) { return HandleListReviews(w.rt.Fn, w.d), nil }

// HandleListReviews serves GET /courses/{courseId}/reviews (public): newest first, cursor-paginated,
// with the rating summary.
func HandleListReviews(fn manifest.Function, d *Deps) httpapi.Lambda {
	return httpapi.Route(fn, func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		id, err := courseID(r)
		if err != nil {
			return httpapi.Response{}, err
		}
		// The course and its rating are read inside the page's read, after ListPage has checked
		// ?limit=: a bad limit is a 400 before an unknown course is a 404, as it always was.
		var rating RatingSummary
		res, err := httpapi.ListPage(ctx, r, "reviews", listLimits,
			func(ctx context.Context, limit int32, cursor string) ([]Review, string, error) {
				c, err := loadCourse(ctx, d, id)
				if err != nil {
					return nil, "", err
				}
				if c.Status == catalog.StatusDraft {
					return nil, "", apperr.New(apperr.NotFound, "course not found")
				}
				page, err := d.Courses.CourseReviews(ctx, c.ID, limit, cursor)
				if err != nil {
					return nil, "", err
				}
				l, err := readListing(ctx, d, c.ID)
				if err != nil {
					return nil, "", err
				}
				rating = ratingSummary(l)
				return page.Items, page.NextCursor, nil
			}, reviewView)
		if err != nil {
			return httpapi.Response{}, err
		}
		return withFields(res, map[string]any{"rating": rating})
	})
}
