package marketplace

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/liberation/monetization/shared/blob"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/marketplace/catalog"
	"github.com/liberation/monetization/shared/marketplace/mktmetrics"
	"github.com/liberation/monetization/shared/platform"
)

// The HTTP routes run here on the fakes (memBooks as Books and Courses, memStripe, memBlobs): what
// each answers and what it leaves in the books.

type memBlobs struct {
	mu      sync.Mutex
	objects map[string]bool
}

var _ blob.Store = (*memBlobs)(nil)

func (m *memBlobs) Put(_ context.Context, o blob.Object, _ []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.objects[o.Key] = true
	return nil
}
func (m *memBlobs) Get(context.Context, string) ([]byte, error) { return nil, nil }
func (m *memBlobs) Exists(_ context.Context, key string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.objects[key], nil
}
func (m *memBlobs) PresignGet(_ context.Context, o blob.Object, _ time.Duration) (string, error) {
	return "https://s3.example/get/" + o.Key, nil
}
func (m *memBlobs) PresignPut(_ context.Context, o blob.Object, _ int64, _ time.Duration) (string, error) {
	return "https://s3.example/put/" + o.Key, nil
}

const appURL = "https://app.example.com"

// routeWorld is a world with blobs and the web app's origin configured.
func routeWorld(t *testing.T) (*world, *memBlobs) {
	w := newWorld(t)
	b := &memBlobs{objects: map[string]bool{}}
	w.d.Blobs = b
	w.d.Config = platform.Config{AppURL: appURL, AppOrigins: []string{appURL}}
	return w, b
}

// caller is who calls a route: a user id and groups ("" : anonymous).
type caller struct {
	user, groups string
}

var (
	anon       = caller{}
	instructor = caller{"ins", "[instructor]"}
	other      = caller{"ins2", "[instructor]"}
	learner    = caller{"ana", ""}
	admin      = caller{"root", "[admin]"}
)

type call struct {
	as    caller
	path  map[string]string
	query map[string]string
	body  string
}

func invoke(t *testing.T, h httpapi.Lambda, c call) (int, map[string]any) {
	t.Helper()
	ev := events.APIGatewayV2HTTPRequest{RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "req-1"},
		PathParameters: c.path, QueryStringParameters: c.query, Headers: map[string]string{}}
	if c.body != "" {
		ev.Body = c.body
		ev.Headers["content-type"] = "application/json"
	}
	if c.as.user != "" {
		claims := map[string]string{"sub": c.as.user, "email": c.as.user + "@example.com", "email_verified": "true"}
		if c.as.groups != "" {
			claims["cognito:groups"] = c.as.groups
		}
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims}}
	}
	res, err := h(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]any{}
	_ = json.Unmarshal([]byte(res.Body), &out)
	return res.StatusCode, out
}

func errCode(m map[string]any) string {
	e, _ := m["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

func fnOf(auth manifest.Auth) manifest.Function { return manifest.Function{Name: "test", Auth: auth} }

const courseBody = `{"title":"Go","description":"All of Go","category":"development","level":"beginner","language":"en","priceCents":1999,"tags":["go"]}`

func TestCourseRoutes(t *testing.T) {
	w, blobs := routeWorld(t)
	create := HandleCreateCourse(fnOf(manifest.User), w.d)
	code, body := invoke(t, create, call{as: instructor, body: courseBody})
	if code != http.StatusCreated {
		t.Fatalf("create: %d %v", code, body)
	}
	id, _ := body["id"].(string)
	if !ValidCourseID(id) || body["status"] != catalog.StatusDraft {
		t.Fatalf("created %v", body)
	}
	if in := w.books.instructors["ins"]; in.Email != "ins@example.com" {
		t.Fatalf("profile %+v", in)
	}
	path := map[string]string{"courseId": id}
	for _, tc := range []struct {
		name string
		c    call
		code int
		err  string
	}{
		{"LearnerCannotCreate", call{as: learner, body: courseBody}, 403, "forbidden"},
		{"MissingFields", call{as: instructor, body: `{"title":"x"}`}, 400, "invalid"},
		{"Anonymous", call{as: anon, body: courseBody}, 401, "unauthenticated"},
	} {
		t.Run("Create"+tc.name, func(t *testing.T) {
			code, body := invoke(t, create, tc.c)
			if code != tc.code || errCode(body) != tc.err {
				t.Fatalf("%d %v", code, body)
			}
		})
	}

	update := HandleUpdateCourse(fnOf(manifest.User), w.d)
	for _, tc := range []struct {
		name  string
		c     call
		code  int
		err   string
		title string
	}{
		{"Rename", call{as: instructor, path: path, body: `{"title":"Go, again"}`}, 200, "", "Go, again"},
		{"Nothing", call{as: instructor, path: path, body: `{}`}, 200, "", "Go, again"},
		{"AdminMay", call{as: admin, path: path, body: `{"priceCents":2999}`}, 200, "", "Go, again"},
		{"AnotherInstructor", call{as: other, path: path, body: `{"title":"mine"}`}, 404, "not_found", ""},
		{"BadID", call{as: instructor, path: map[string]string{"courseId": "nope"}, body: `{"title":"x"}`}, 400, "invalid", ""},
		{"Unknown", call{as: instructor, path: map[string]string{"courseId": newID(prefixCourse, t0)}, body: `{"title":"x"}`}, 404, "not_found", ""},
	} {
		t.Run("Update"+tc.name, func(t *testing.T) {
			code, body := invoke(t, update, tc.c)
			if code != tc.code || errCode(body) != tc.err || tc.title != "" && body["title"] != tc.title {
				t.Fatalf("%d %v", code, body)
			}
		})
	}
	if l, _ := w.books.Listing(context.Background(), id); l.Title != "Go, again" || l.PriceCents != 2999 {
		t.Fatalf("listing not kept with the course: %+v", l)
	}

	lesson := HandleCreateLesson(fnOf(manifest.User), w.d)
	publish := HandlePublishCourse(fnOf(manifest.User), w.d)
	unpublish := HandleUnpublishCourse(fnOf(manifest.User), w.d)
	if code, body := invoke(t, publish, call{as: instructor, path: path}); code != 422 || !strings.Contains(body["error"].(map[string]any)["message"].(string), "at least one lesson") {
		t.Fatalf("publish without lessons: %d %v", code, body)
	}
	if code, body := invoke(t, unpublish, call{as: instructor, path: path}); code != 422 {
		t.Fatalf("unpublish a draft: %d %v", code, body)
	}
	var objectKey string
	for _, tc := range []struct {
		name, body string
		code       int
		err        string
	}{
		{"Document", `{"title":"Intro","kind":"document","contentType":"application/pdf","sizeBytes":1000}`, 201, ""},
		{"WrongType", `{"title":"Intro","kind":"video","contentType":"application/pdf","sizeBytes":1000}`, 422, "unprocessable"},
		{"TooBig", `{"title":"Intro","kind":"document","contentType":"application/pdf","sizeBytes":60000000}`, 422, "unprocessable"},
		{"BadKind", `{"title":"Intro","kind":"audio","contentType":"audio/mpeg","sizeBytes":10}`, 400, "invalid"},
		{"NoSize", `{"title":"Intro","kind":"video","contentType":"video/mp4","sizeBytes":0}`, 400, "invalid"},
		{"Video", `{"title":"Clip","kind":"video","contentType":"video/mp4","sizeBytes":100000000}`, 201, ""},
	} {
		t.Run("Lesson"+tc.name, func(t *testing.T) {
			code, body := invoke(t, lesson, call{as: instructor, path: path, body: tc.body})
			if code != tc.code || errCode(body) != tc.err {
				t.Fatalf("%d %v", code, body)
			}
			if code == 201 && objectKey == "" {
				l := body["lesson"].(map[string]any)
				objectKey = LessonObjectKey(id, l["id"].(string))
				if up := body["upload"].(map[string]any); up["method"] != "PUT" || !strings.HasSuffix(up["url"].(string), objectKey) {
					t.Fatalf("upload %v", up)
				}
			}
		})
	}
	if c := w.books.courses[id]; c.LessonCount != 2 {
		t.Fatalf("lesson count %d", c.LessonCount)
	}
	if code, body := invoke(t, publish, call{as: instructor, path: path}); code != 422 || !strings.Contains(body["error"].(map[string]any)["message"].(string), "uploaded file") {
		t.Fatalf("publish with nothing uploaded: %d %v", code, body)
	}
	blobs.objects[objectKey] = true
	code, body = invoke(t, publish, call{as: instructor, path: path})
	if code != 200 || body["course"].(map[string]any)["status"] != catalog.StatusPublished || len(body["lessons"].([]any)) != 2 {
		t.Fatalf("publish: %d %v", code, body)
	}
	if n := w.books.counters[mktmetrics.GaugePublishedCourses]; n != 1 || w.sent.count(catalog.MsgRebuild) != 1 {
		t.Fatalf("gauge %v, rebuilds %d", w.books.counters, w.sent.count(catalog.MsgRebuild))
	}

	// Reading it: the public page lists the lessons' titles; the content is the owner's, an
	// admin's or an enrolled learner's (who sees only uploaded lessons).
	get := HandleGetCourse(fnOf(manifest.Public), w.d)
	if code, body := invoke(t, get, call{path: path}); code != 200 || body["title"] != "Go, again" || len(body["lessons"].([]any)) != 1 {
		t.Fatalf("get: %d %v", code, body)
	}
	content := HandleGetCourseContent(fnOf(manifest.User), w.d)
	for _, tc := range []struct {
		name    string
		as      caller
		code    int
		access  string
		lessons int
	}{
		{"Owner", instructor, 200, "owner", 2},
		{"Admin", admin, 200, "admin", 2},
		{"NotEnrolled", learner, 403, "", 0},
	} {
		t.Run("Content"+tc.name, func(t *testing.T) {
			code, body := invoke(t, content, call{as: tc.as, path: path})
			if code != tc.code || tc.access != "" && (body["access"] != tc.access || len(body["lessons"].([]any)) != tc.lessons) {
				t.Fatalf("%d %v", code, body)
			}
		})
	}
	w.mustBook(w.paid("cs_1", "ana", id, 2999))
	if code, body := invoke(t, content, call{as: learner, path: path}); code != 200 || body["access"] != "enrolled" || len(body["lessons"].([]any)) != 1 {
		t.Fatalf("enrolled: %d %v", code, body)
	}

	// The instructor's list, newest first, with a cursor.
	w.clk.Advance(time.Hour)
	if code, _ := invoke(t, create, call{as: instructor, body: courseBody}); code != 201 {
		t.Fatal(code)
	}
	list := HandleListInstructorCourses(fnOf(manifest.User), w.d)
	code, body = invoke(t, list, call{as: instructor, query: map[string]string{"limit": "1"}})
	if code != 200 || len(body["courses"].([]any)) != 1 || body["nextCursor"] == nil {
		t.Fatalf("list: %d %v", code, body)
	}
	code, body = invoke(t, list, call{as: instructor, query: map[string]string{"limit": "1", "cursor": body["nextCursor"].(string)}})
	if code != 200 || body["courses"].([]any)[0].(map[string]any)["id"] != id {
		t.Fatalf("second page: %d %v", code, body)
	}
	if code, body := invoke(t, list, call{as: instructor, query: map[string]string{"cursor": "forged"}}); code != 400 {
		t.Fatalf("forged cursor: %d %v", code, body)
	}
	if code, _ := invoke(t, list, call{as: learner}); code != 403 {
		t.Fatalf("a learner's list: %d", code)
	}

	code, body = invoke(t, unpublish, call{as: instructor, path: path})
	if code != 200 || body["course"].(map[string]any)["status"] != catalog.StatusUnpublished {
		t.Fatalf("unpublish: %d %v", code, body)
	}
	if code, _ := invoke(t, get, call{path: path}); code != 404 {
		t.Fatalf("an unpublished course is public: %d", code)
	}
	if code, _ := invoke(t, content, call{as: learner, path: path}); code != 200 {
		t.Fatalf("an enrolled learner keeps access: %d", code)
	}
}
