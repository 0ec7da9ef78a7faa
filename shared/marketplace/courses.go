package marketplace

import (
	"context"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/auth"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/logging"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/marketplace/catalog"
)

// Course field limits.
const (
	maxTitle          = 120
	maxSubtitle       = 200
	maxDescription    = 5000
	maxTags           = 10
	maxTag            = 30
	maxInstructorName = 80
	// Prices: 0 (free) or 99..99999 cents.
	minPriceCents = 99
	maxPriceCents = 99999
)

// listLimits are every list route's ?limit= default and maximum.
var listLimits = httpapi.Limits{Default: 20, Max: 50}

// courseFields are the editable fields of a course; nil means "not given".
type courseFields struct {
	Title          *string   `json:"title"`
	Subtitle       *string   `json:"subtitle"`
	Description    *string   `json:"description"`
	Category       *string   `json:"category"`
	Level          *string   `json:"level"`
	Language       *string   `json:"language"`
	PriceCents     *int64    `json:"priceCents"`
	Tags           *[]string `json:"tags"`
	InstructorName *string   `json:"instructorName"`
}

// createCourseRequest is the body of POST /courses (a defined type, not an embedding, so any JSON
// decoder sees exactly these fields).
type createCourseRequest courseFields

func (r *createCourseRequest) Validate() error {
	for name, missing := range map[string]bool{"title": r.Title == nil, "description": r.Description == nil,
		"category": r.Category == nil, "level": r.Level == nil, "language": r.Language == nil, "priceCents": r.PriceCents == nil} {
		if missing {
			return apperr.New(apperr.Invalid, "%s is required", name)
		}
	}
	return (*courseFields)(r).validate()
}

// updateCourseRequest is the body of PATCH /courses/{courseId}.
type updateCourseRequest courseFields

func (r *updateCourseRequest) Validate() error {
	return (*courseFields)(r).validate()
}

// empty says the patch changes nothing (every field absent or null).
func (r *updateCourseRequest) empty() bool {
	return r.Title == nil && r.Subtitle == nil && r.Description == nil && r.Category == nil && r.Level == nil &&
		r.Language == nil && r.PriceCents == nil && r.Tags == nil && r.InstructorName == nil
}

func (f *courseFields) validate() error {
	// Checks on the value as sent (what docs/openapi.yaml's patterns say), then stored trimmed.
	for _, c := range []struct {
		name      string
		v         *string
		min, max  int
		multiline bool
	}{{"title", f.Title, 1, maxTitle, false}, {"subtitle", f.Subtitle, 0, maxSubtitle, false},
		{"description", f.Description, 1, maxDescription, true}, {"instructorName", f.InstructorName, 1, maxInstructorName, false}} {
		if err := checkText(c.name, c.v, c.min, c.max, c.multiline); err != nil {
			return err
		}
		if c.v != nil {
			*c.v = strings.TrimSpace(*c.v)
		}
	}
	if f.Category != nil && !catalog.ValidCategory(*f.Category) {
		return apperr.New(apperr.Invalid, "category must be one of %s", strings.Join(catalog.Categories, ", "))
	}
	if f.Level != nil && !catalog.ValidLevel(*f.Level) {
		return apperr.New(apperr.Invalid, "level must be one of %s", strings.Join(catalog.Levels, ", "))
	}
	if f.Language != nil && !catalog.ValidLanguage(*f.Language) {
		return apperr.New(apperr.Invalid, "language must be a language code such as en or pt-BR")
	}
	if p := f.PriceCents; p != nil && *p != 0 && (*p < minPriceCents || *p > maxPriceCents) {
		return apperr.New(apperr.Invalid, "priceCents must be 0 (free) or from %d to %d (usd cents)", minPriceCents, maxPriceCents)
	}
	if f.Tags != nil {
		tags, err := normalizeTags(*f.Tags)
		if err != nil {
			return err
		}
		*f.Tags = tags
	}
	return nil
}

// normalizeTags checks tags as sent (at most maxTags of 1..maxTag characters, not blank, no control
// characters), then trims, lower-cases and de-duplicates them.
func normalizeTags(in []string) ([]string, error) {
	if len(in) > maxTags {
		return nil, apperr.New(apperr.Invalid, "tags must have at most %d entries", maxTags)
	}
	seen := map[string]bool{}
	out := []string{}
	for _, t := range in {
		if err := checkText("each tag", &t, 1, maxTag, false); err != nil {
			return nil, err
		}
		t = strings.ToLower(strings.TrimSpace(t))
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out, nil
}

// checkText checks a text field as sent: min..max characters, not blank when required (min > 0),
// and no control characters (a line break only where multiline).
func checkText(name string, v *string, min, max int, multiline bool) error {
	if v == nil {
		return nil
	}
	if n := utf8.RuneCountInString(*v); n < min || n > max {
		return apperr.New(apperr.Invalid, "%s must be %d to %d characters", name, min, max)
	}
	if min > 0 && strings.TrimSpace(*v) == "" {
		return apperr.New(apperr.Invalid, "%s must not be blank", name)
	}
	if strings.IndexFunc(*v, func(r rune) bool { return unicode.IsControl(r) && !(multiline && r == '\n') }) >= 0 {
		if multiline {
			return apperr.New(apperr.Invalid, "%s contains control characters (only line breaks are allowed)", name)
		}
		return apperr.New(apperr.Invalid, "%s must be one line without control characters", name)
	}
	return nil
}

func (f courseFields) apply(c *Course) {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&c.Title, f.Title)
	set(&c.Subtitle, f.Subtitle)
	set(&c.Description, f.Description)
	set(&c.Category, f.Category)
	set(&c.Level, f.Level)
	set(&c.Language, f.Language)
	set(&c.InstructorName, f.InstructorName)
	if f.PriceCents != nil {
		c.PriceCents = *f.PriceCents
	}
	if f.Tags != nil {
		c.Tags = *f.Tags
	}
}

func joinTags(tags []string) string { return strings.Join(tags, " ") }

// requireInstructor refuses callers outside the instructor group (admins may act for anyone).
func requireInstructor(p auth.Principal) error {
	if p.InGroup(auth.GroupInstructor) || p.IsAdmin() {
		return nil
	}
	return apperr.New(apperr.Forbidden, "this route is for instructors")
}

// courseID reads and checks the path's course id.
func courseID(r *httpapi.Request) (string, error) {
	id := r.PathParam("courseId")
	if !ValidCourseID(id) {
		return "", apperr.New(apperr.Invalid, "courseId is not a valid course id")
	}
	return id, nil
}

// loadCourse reads a course (consistent); NotFound when absent.
func loadCourse(ctx context.Context, d *Deps, id string) (Course, error) {
	return d.Books.Course(ctx, id)
}

// ownCourse is the path's course if the caller is its instructor or an admin; another instructor's
// course is a 404, as if it did not exist.
func ownCourse(ctx context.Context, d *Deps, r *httpapi.Request) (Course, error) {
	if err := requireInstructor(r.Principal); err != nil {
		return Course{}, err
	}
	id, err := courseID(r)
	if err != nil {
		return Course{}, err
	}
	c, err := loadCourse(ctx, d, id)
	if err != nil {
		return Course{}, err
	}
	if c.InstructorID != r.Principal.UserID && !r.Principal.IsAdmin() {
		return Course{}, apperr.New(apperr.NotFound, "course not found")
	}
	return c, nil
}

// claim reads a token claim the Principal does not carry (e.g. "name").
func claim(r *httpapi.Request, name string) string {
	if a := r.Event.RequestContext.Authorizer; a != nil && a.JWT != nil {
		return strings.TrimSpace(a.JWT.Claims[name])
	}
	return ""
}

// displayName is the caller's public name: the token's name claim, else fallback. E-mail
// addresses are never shown publicly.
func displayName(r *httpapi.Request, fallback string) string {
	if n := claim(r, "name"); n != "" && len([]rune(n)) <= maxInstructorName && !strings.ContainsAny(n, "\r\n") {
		return n
	}
	return fallback
}

// CourseView is a course as its instructor (and admins) see it.
type CourseView struct {
	ID             string   `json:"id"`
	InstructorID   string   `json:"instructorId"`
	InstructorName string   `json:"instructorName"`
	Title          string   `json:"title"`
	Subtitle       string   `json:"subtitle,omitempty"`
	Description    string   `json:"description"`
	Category       string   `json:"category"`
	Level          string   `json:"level"`
	Language       string   `json:"language"`
	PriceCents     int64    `json:"priceCents"`
	Currency       string   `json:"currency"`
	Tags           []string `json:"tags"`
	Status         string   `json:"status"`
	LessonCount    int64    `json:"lessonCount"`
	CreatedAt      string   `json:"createdAt"`
	UpdatedAt      string   `json:"updatedAt"`
	PublishedAt    *string  `json:"publishedAt,omitempty"`
}

func courseView(c Course) CourseView {
	v := CourseView{ID: c.ID, InstructorID: c.InstructorID, InstructorName: c.InstructorName, Title: c.Title,
		Subtitle: c.Subtitle, Description: c.Description, Category: c.Category, Level: c.Level, Language: c.Language,
		PriceCents: c.PriceCents, Currency: Currency, Tags: c.Tags, Status: c.Status, LessonCount: c.LessonCount,
		CreatedAt: rfc3339(c.CreatedAt), UpdatedAt: rfc3339(c.UpdatedAt)}
	if v.Tags == nil {
		v.Tags = []string{}
	}
	if c.PublishedAt != nil {
		s := rfc3339(*c.PublishedAt)
		v.PublishedAt = &s
	}
	return v
}

func wireCreateCourse(w wiring) (httpapi.Lambda, error) { return HandleCreateCourse(w.rt.Fn, w.d), nil }

// HandleCreateCourse serves POST /courses: a draft course owned by the caller (an instructor), with
// its catalog listing, created together.
func HandleCreateCourse(fn manifest.Function, d *Deps) httpapi.Lambda {
	return httpapi.Route(fn, func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		var req createCourseRequest
		if err := r.Decode(&req); err != nil {
			return httpapi.Response{}, err
		}
		if err := requireInstructor(r.Principal); err != nil {
			return httpapi.Response{}, err
		}
		now := d.Clock.Now().UTC()
		c := Course{ID: newID(prefixCourse, now), InstructorID: r.Principal.UserID, Currency: Currency,
			Status: catalog.StatusDraft, CreatedAt: now, UpdatedAt: now, Version: 1,
			InstructorName: displayName(r, "Instructor")}
		courseFields(req).apply(&c)
		if c.Tags == nil {
			c.Tags = []string{}
		}
		c.SetKeys()
		au := audit.Entry{Actor: r.Principal.UserID, Action: "course.create", Target: "course:" + c.ID,
			RequestID: r.ID, Details: map[string]string{"priceCents": itoa(c.PriceCents)}}
		if err := d.Courses.CreateCourse(ctx, c, r.Principal, au); err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.JSON(http.StatusCreated, courseView(c)), nil
	})
}

func wireUpdateCourse(w wiring) (httpapi.Lambda, error) { return HandleUpdateCourse(w.rt.Fn, w.d), nil }

// HandleUpdateCourse serves PATCH /courses/{courseId}: the owner (or an admin) edits the course's
// details. A price change applies to later purchases only: a sale keeps the amount paid.
func HandleUpdateCourse(fn manifest.Function, d *Deps) httpapi.Lambda {
	return httpapi.Route(fn, func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		var req updateCourseRequest
		if err := r.Decode(&req); err != nil {
			return httpapi.Response{}, err
		}
		if req.empty() { // nothing to change: answer the course as it is, writing nothing
			c, err := ownCourse(ctx, d, r)
			if err != nil {
				return httpapi.Response{}, err
			}
			return httpapi.OK(courseView(c)), nil
		}
		var c Course
		err := retryConflicts(ctx, "update course", func() error {
			var err error
			if c, err = ownCourse(ctx, d, r); err != nil {
				return err
			}
			read := c.Version
			now := d.Clock.Now().UTC()
			courseFields(req).apply(&c)
			c.UpdatedAt, c.Version = now, read+1
			c.SetKeys()
			return d.Courses.SaveCourse(ctx, c, read, 0, audit.Entry{Actor: r.Principal.UserID, Action: "course.update",
				Target: "course:" + c.ID, RequestID: r.ID, Details: map[string]string{"priceCents": itoa(c.PriceCents), "status": c.Status}})
		})
		if err != nil {
			return httpapi.Response{}, err
		}
		if c.Status == catalog.StatusPublished {
			requestRebuild(ctx, d, c.ID, "update")
		}
		return httpapi.OK(courseView(c)), nil
	})
}

// requestRebuild asks the catalog builder for a new snapshot. A lost message costs freshness only:
// the refresh job rebuilds every five minutes.
func requestRebuild(ctx context.Context, d *Deps, courseID, reason string) {
	err := d.Queue.Send(ctx, manifest.CatalogQueue, catalog.MsgRebuild, "catalog#"+courseID+"#"+reason,
		catalog.RebuildRequest{CourseID: courseID, Reason: reason})
	if err != nil {
		logging.From(ctx).Warn("catalog rebuild not requested; the refresh job will catch up", "courseId", courseID, "err", err.Error())
	}
}

// CourseList is the body of GET /instructors/me/courses (httpapi.ListPage writes it).
type CourseList struct {
	Courses    []CourseView `json:"courses"`
	NextCursor string       `json:"nextCursor,omitempty"`
}

func wireListInstructorCourses(w wiring) (httpapi.Lambda, error) {
	return HandleListInstructorCourses(w.rt.Fn, w.d), nil
}

// HandleListInstructorCourses serves GET /instructors/me/courses: the caller's courses, newest
// first, drafts included.
func HandleListInstructorCourses(fn manifest.Function, d *Deps) httpapi.Lambda {
	return httpapi.Route(fn, func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		if err := requireInstructor(r.Principal); err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.ListPage(ctx, r, "courses", listLimits, pageOf(d.Courses.InstructorCourses, r.Principal.UserID), courseView)
	})
}
