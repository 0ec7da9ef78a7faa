package marketplace

import (
	"context"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/blob"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/marketplace/catalog"
	"github.com/liberation/monetization/shared/store"
)

// Upload limits.
const (
	MaxVideoBytes    = 2 << 30  // 2 GB
	MaxDocumentBytes = 50 << 20 // 50 MB
	// MaxLessons bounds a course (and the publish check's object reads).
	MaxLessons = 200
	// UploadURLTTL and DownloadURLTTL are the lifetimes of presigned URLs.
	UploadURLTTL   = 15 * time.Minute
	DownloadURLTTL = 5 * time.Minute
)

// allowedTypes is the allow-list of content types per lesson kind.
var allowedTypes = map[string][]string{
	KindVideo: {"video/mp4", "video/quicktime", "video/webm"},
	KindDocument: {"application/epub+zip", "application/pdf", "text/markdown", "text/plain",
		"application/vnd.openxmlformats-officedocument.presentationml.presentation",
		"application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
}

// LessonObjectKey is where a lesson's file lives: under the content prefix, so the functions that
// presign uploads and downloads are granted only that prefix.
func LessonObjectKey(courseID, lessonID string) string {
	return manifest.ContentPrefix + courseID + "/" + lessonID
}

type createLessonRequest struct {
	Title       string `json:"title"`
	Kind        string `json:"kind"`
	ContentType string `json:"contentType"`
	SizeBytes   int64  `json:"sizeBytes"`
}

// Validate checks the shape (400); the allow-list and size limits are business rules (422).
func (r *createLessonRequest) Validate() error {
	if err := checkText("title", &r.Title, 1, maxTitle, false); err != nil {
		return err
	}
	r.Title = strings.TrimSpace(r.Title)
	if r.Kind != KindVideo && r.Kind != KindDocument {
		return apperr.New(apperr.Invalid, "kind must be video or document")
	}
	if n := utf8.RuneCountInString(r.ContentType); n < 1 || n > 255 {
		return apperr.New(apperr.Invalid, "contentType must be 1 to 255 characters")
	}
	if r.SizeBytes < 1 {
		return apperr.New(apperr.Invalid, "sizeBytes must be a positive number of bytes")
	}
	return nil
}

// checkUpload applies the allow-list and size limit of the lesson's kind.
func checkUpload(kind, contentType string, size int64) error {
	ok := false
	for _, t := range allowedTypes[kind] {
		ok = ok || t == contentType
	}
	if !ok {
		return apperr.New(apperr.Unprocessable, "contentType %s is not allowed for a %s lesson (allowed: %s)", contentType, kind,
			strings.Join(allowedTypes[kind], ", "))
	}
	limit := int64(MaxDocumentBytes)
	if kind == KindVideo {
		limit = MaxVideoBytes
	}
	if size > limit {
		return apperr.New(apperr.Unprocessable, "sizeBytes %d exceeds the %s limit of %d bytes", size, kind, limit)
	}
	return nil
}

// LessonView is a lesson as its instructor sees it.
type LessonView struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Kind        string `json:"kind"`
	ContentType string `json:"contentType"`
	SizeBytes   int64  `json:"sizeBytes"`
	Uploaded    bool   `json:"uploaded"`
	CreatedAt   string `json:"createdAt"`
}

func lessonView(l Lesson) LessonView {
	return LessonView{ID: l.ID, Title: l.Title, Kind: l.Kind, ContentType: l.ContentType, SizeBytes: l.SizeBytes,
		Uploaded: l.Uploaded, CreatedAt: rfc3339(l.CreatedAt)}
}

// Upload tells the client how to upload a lesson's file: PUT the exact bytes with these headers.
type Upload struct {
	URL       string            `json:"url"`
	Method    string            `json:"method"`
	Headers   map[string]string `json:"headers"`
	ExpiresAt string            `json:"expiresAt"`
}

// CreateLessonResponse is the 201 of POST /courses/{courseId}/lessons.
type CreateLessonResponse struct {
	Lesson LessonView `json:"lesson"`
	Upload Upload     `json:"upload"`
}

func wireCreateLesson(w wiring) (httpapi.Lambda, error) { return HandleCreateLesson(w.rt.Fn, w.d), nil }

// HandleCreateLesson serves POST /courses/{courseId}/lessons: the lesson is recorded and a
// presigned PUT URL returned, valid 15 minutes, with the content type and length bound into its
// signature (S3 refuses another type or size).
func HandleCreateLesson(fn manifest.Function, d *Deps) httpapi.Lambda {
	return httpapi.Route(fn, func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		var req createLessonRequest
		if err := r.Decode(&req); err != nil {
			return httpapi.Response{}, err
		}
		c, err := ownCourse(ctx, d, r)
		if err != nil {
			return httpapi.Response{}, err
		}
		if err := checkUpload(req.Kind, req.ContentType, req.SizeBytes); err != nil {
			return httpapi.Response{}, err
		}
		now := d.Clock.Now().UTC()
		l := Lesson{ID: newID(prefixLesson, now), CourseID: c.ID, Title: req.Title, Kind: req.Kind,
			ContentType: req.ContentType, SizeBytes: req.SizeBytes, CreatedAt: now}
		l.ObjectKey = LessonObjectKey(c.ID, l.ID)
		k := store.LessonKey(c.ID, l.ID)
		l.PK, l.SK, l.Type = k.PK, k.SK, "lesson"
		// The course counts its lessons; the condition caps them.
		if err := d.Courses.AddLesson(ctx, l); err != nil {
			// Only the course's count (item 0) failing means the cap; anything else (the lesson's
			// own put, a conflict) is not the caller's to fix and says what it is.
			if store.IsConditionFailed(err) && slices.Contains(store.FailedItems(err), 0) {
				return httpapi.Response{}, apperr.New(apperr.Unprocessable, "a course has at most %d lessons", MaxLessons)
			}
			return httpapi.Response{}, apperr.Wrap(err, apperr.Unavailable, "add lesson")
		}
		url, err := d.Blobs.PresignPut(ctx, blob.Object{Key: l.ObjectKey, ContentType: l.ContentType}, l.SizeBytes, UploadURLTTL)
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.JSON(http.StatusCreated, CreateLessonResponse{Lesson: lessonView(l), Upload: Upload{
			URL: url, Method: http.MethodPut, ExpiresAt: rfc3339(now.Add(UploadURLTTL)),
			Headers: map[string]string{"content-type": l.ContentType, "content-length": itoa(l.SizeBytes)},
		}}), nil
	})
}

// lessons reads a course's lessons in creation order (at most MaxLessons).
func lessons(ctx context.Context, d *Deps, courseID string) ([]Lesson, error) {
	return d.Courses.Lessons(ctx, courseID)
}

// PublishResponse is the answer of publish and unpublish.
type PublishResponse struct {
	Course  CourseView   `json:"course"`
	Lessons []LessonView `json:"lessons"`
}

func wirePublishCourse(w wiring) (httpapi.Lambda, error) {
	return HandlePublishCourse(w.rt.Fn, w.d), nil
}

// HandlePublishCourse serves POST /courses/{courseId}/publish. A course is published only with a
// title, a description, a valid price and at least one lesson whose file is really in S3 (each
// lesson's object is checked; lessons without one stay hidden from learners until a later publish
// finds it). Otherwise 422 says what is missing. Publishing again re-checks the lessons.
func HandlePublishCourse(fn manifest.Function, d *Deps) httpapi.Lambda {
	return httpapi.Route(fn, func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		c, err := ownCourse(ctx, d, r)
		if err != nil {
			return httpapi.Response{}, err
		}
		ls, err := lessons(ctx, d, c.ID)
		if err != nil {
			return httpapi.Response{}, err
		}
		var missing []string
		if strings.TrimSpace(c.Title) == "" {
			missing = append(missing, "a title")
		}
		if strings.TrimSpace(c.Description) == "" {
			missing = append(missing, "a description")
		}
		if c.PriceCents != 0 && (c.PriceCents < minPriceCents || c.PriceCents > maxPriceCents) {
			missing = append(missing, "a valid price")
		}
		uploaded := 0
		for i := range ls {
			ok, err := d.Blobs.Exists(ctx, ls[i].ObjectKey)
			if err != nil {
				return httpapi.Response{}, err
			}
			if ok != ls[i].Uploaded {
				if err := setUploaded(ctx, d, ls[i], ok); err != nil {
					return httpapi.Response{}, err
				}
				ls[i].Uploaded = ok
			}
			if ok {
				uploaded++
			}
		}
		switch {
		case len(ls) == 0:
			missing = append(missing, "at least one lesson")
		case uploaded == 0:
			missing = append(missing, "an uploaded file for at least one lesson (none of its lessons' files is in storage yet)")
		}
		if len(missing) > 0 {
			return httpapi.Response{}, apperr.New(apperr.Unprocessable, "the course cannot be published without %s", strings.Join(missing, ", "))
		}
		c, err = setStatus(ctx, d, r, c.ID, catalog.StatusPublished)
		if err != nil {
			return httpapi.Response{}, err
		}
		requestRebuild(ctx, d, c.ID, "publish")
		return httpapi.OK(publishResponse(c, ls)), nil
	})
}

func publishResponse(c Course, ls []Lesson) PublishResponse {
	out := PublishResponse{Course: courseView(c), Lessons: make([]LessonView, 0, len(ls))}
	for _, l := range ls {
		out.Lessons = append(out.Lessons, lessonView(l))
	}
	sort.Slice(out.Lessons, func(i, j int) bool { return out.Lessons[i].ID < out.Lessons[j].ID })
	return out
}

func setUploaded(ctx context.Context, d *Deps, l Lesson, ok bool) error {
	return d.Courses.SetUploaded(ctx, l, ok)
}

func wireUnpublishCourse(w wiring) (httpapi.Lambda, error) {
	return HandleUnpublishCourse(w.rt.Fn, w.d), nil
}

// HandleUnpublishCourse serves POST /courses/{courseId}/unpublish: the course leaves the catalog;
// enrolled learners keep their access.
func HandleUnpublishCourse(fn manifest.Function, d *Deps) httpapi.Lambda {
	return httpapi.Route(fn, func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		c, err := ownCourse(ctx, d, r)
		if err != nil {
			return httpapi.Response{}, err
		}
		if c.Status != catalog.StatusPublished {
			return httpapi.Response{}, apperr.New(apperr.Unprocessable, "the course is not published")
		}
		if c, err = setStatus(ctx, d, r, c.ID, catalog.StatusUnpublished); err != nil {
			return httpapi.Response{}, err
		}
		requestRebuild(ctx, d, c.ID, "unpublish")
		ls, err := lessons(ctx, d, c.ID)
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.OK(publishResponse(c, ls)), nil
	})
}

// setStatus moves a course (and its listing) to status in one transaction, with the published
// gauge moving exactly when the course enters or leaves the published state.
func setStatus(ctx context.Context, d *Deps, r *httpapi.Request, id, status string) (Course, error) {
	var c Course
	err := retryConflicts(ctx, "change course status", func() error {
		var err error
		if c, err = loadCourse(ctx, d, id); err != nil {
			return err
		}
		before, read := c.Status, c.Version
		now := d.Clock.Now().UTC()
		c.Status, c.UpdatedAt, c.Version = status, now, read+1
		if status == catalog.StatusPublished && c.PublishedAt == nil {
			c.PublishedAt = &now
		}
		c.SetKeys()
		au := audit.Entry{Actor: r.Principal.UserID, Action: "course." + status, Target: "course:" + c.ID,
			RequestID: r.ID, Details: map[string]string{"from": before}}
		var delta int64
		switch {
		case before != catalog.StatusPublished && status == catalog.StatusPublished:
			delta = 1
		case before == catalog.StatusPublished && status != catalog.StatusPublished:
			delta = -1
		}
		return d.Courses.SaveCourse(ctx, c, read, delta, au)
	})
	return c, err
}
