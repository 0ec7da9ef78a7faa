package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/liberation/monetization/infra/local/authlocal"
	"github.com/liberation/monetization/infra/local/stripeevents"
	"github.com/liberation/monetization/shared/manifest"
)

// runSeed loads a demo marketplace into the running `make dev`, through its API and webhook as a
// client and Stripe would: instructors with 50 published courses (each with two lessons whose files
// are uploaded through their presigned URLs), learners, purchases (paid ones as signed
// checkout.session.completed events, some old enough to be released), reviews, then the release
// and catalog jobs. Idempotent: courses are found by title before being created, purchase events
// carry fixed ids (the webhook dedupes them), reviews are PUTs.
func (c *cli) runSeed(ctx context.Context, args []string) error {
	fs := c.flags("seed")
	courses := fs.Int("courses", 50, "published courses to have")
	learners := fs.Int("learners", 12, "learners")
	if err := parse(fs, args); err != nil {
		return err
	}
	root, err := projectRoot()
	if err != nil {
		return err
	}
	state := c.stateDir(root)
	getenv := c.devGetenv(state)
	key, err := authlocal.LoadOrCreateKey(filepath.Join(state, "jwt"))
	if err != nil {
		return err
	}
	s := &seeder{ctx: ctx, base: baseURL(getenv), auth: authlocal.FromEnv(key, getenv),
		secret: or(getenv(manifest.EnvWebhookSecret), defaultWebhookSecret), stripeState: getenv(envStripeStateURL), out: c.stdout,
		http: &http.Client{Timeout: 30 * time.Second}}
	if _, err := s.do("GET", "/courses?limit=1", "", nil, nil); err != nil {
		return fmt.Errorf("%w (is `make dev` running?)", err)
	}
	return s.run(*courses, *learners)
}

type seeder struct {
	ctx    context.Context
	base   string
	auth   *authlocal.Authority
	secret string
	// stripeState is the Stripe stand-in's URL (dev.env's STRIPE_STATE_URL); it learns each
	// purchase's charge before the webhook does.
	stripeState string
	http        *http.Client
	out         io.Writer
}

// seedCourse is one demo course.
type seedCourse struct {
	Title, Subtitle, Description, Category, Level string
	Price                                         int64
	Tags                                          []string
}

var seedTopics = []struct{ topic, category string }{
	{"Go", "development"}, {"Python", "development"}, {"TypeScript", "development"}, {"Rust", "development"},
	{"SQL", "it-software"}, {"Kubernetes", "it-software"}, {"Watercolour", "design"}, {"Typography", "design"},
	{"Bookkeeping", "finance"}, {"Public Speaking", "personal-development"}, {"Guitar", "music"},
	{"Spanish", "language"}, {"Photography", "photography"}, {"Yoga", "health-fitness"},
	{"Marketing Analytics", "marketing"}, {"Spreadsheets", "office-productivity"}, {"Negotiation", "business"},
}

var seedLevels = []struct{ level, title string }{
	{"beginner", "%s for Beginners"}, {"intermediate", "Practical %s"}, {"advanced", "Advanced %s"},
}

var seedPrices = []int64{0, 999, 1999, 2995, 4999, 9999}

func seedCatalog(n int) []seedCourse {
	var out []seedCourse
	for i := 0; len(out) < n; i++ {
		t := seedTopics[i%len(seedTopics)]
		l := seedLevels[(i/len(seedTopics))%len(seedLevels)]
		title := fmt.Sprintf(l.title, t.topic)
		if i >= len(seedTopics)*len(seedLevels) {
			title += fmt.Sprintf(" (Part %d)", i/(len(seedTopics)*len(seedLevels))+1)
		}
		out = append(out, seedCourse{Title: title, Category: t.category, Level: l.level,
			Subtitle:    "A hands-on " + l.level + " course in " + t.topic,
			Description: fmt.Sprintf("Learn %s step by step: short videos, worked examples and exercises. Suited to %s learners.", t.topic, l.level),
			Price:       seedPrices[i%len(seedPrices)],
			Tags:        []string{strings.ToLower(strings.Fields(t.topic)[0]), l.level}})
	}
	return out
}

func (s *seeder) token(sub string, groups ...string) string {
	tok, err := s.auth.Mint(sub, sub+"@example.com", groups, time.Hour)
	if err != nil {
		panic(err) // a local key that cannot sign is a broken state dir
	}
	return tok
}

// do sends a JSON request and decodes a 2xx answer into out; other statuses are errors.
func (s *seeder) do(method, path, token string, body, out any, okStatus ...int) (int, error) {
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(s.ctx, method, s.base+path, r)
	if err != nil {
		return 0, err
	}
	if body != nil {
		req.Header.Set("content-type", "application/json")
	}
	if token != "" {
		req.Header.Set("authorization", "Bearer "+token)
	}
	res, err := s.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	for _, st := range okStatus {
		if res.StatusCode == st {
			return st, nil
		}
	}
	if res.StatusCode >= 300 {
		return res.StatusCode, fmt.Errorf("%s %s: %d %s", method, path, res.StatusCode, bytes.TrimSpace(b))
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return res.StatusCode, fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	return res.StatusCode, nil
}

type seededCourse struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Status      string `json:"status"`
	LessonCount int    `json:"lessonCount"`
	PriceCents  int64  `json:"priceCents"`
}

func (s *seeder) run(nCourses, nLearners int) error {
	instructors := []struct{ id, name string }{
		{"seed-instructor-1", "Ada Okafor"}, {"seed-instructor-2", "Lin Park"}, {"seed-instructor-3", "Marta Silva"},
		{"seed-instructor-4", "Tom Berg"}, {"seed-instructor-5", "Priya Nair"},
	}
	var all []seededCourse
	created, published := 0, 0
	for i, c := range seedCatalog(nCourses) {
		in := instructors[i%len(instructors)]
		tok := s.token(in.id, "instructor")
		existing, err := s.ownCourses(tok)
		if err != nil {
			return err
		}
		course, ok := existing[c.Title]
		if !ok {
			body := map[string]any{"title": c.Title, "subtitle": c.Subtitle, "description": c.Description,
				"category": c.Category, "level": c.Level, "language": "en", "priceCents": c.Price, "tags": c.Tags,
				"instructorName": in.name}
			if _, err := s.do("POST", "/courses", tok, body, &course); err != nil {
				return err
			}
			created++
		}
		if course.LessonCount == 0 {
			for _, l := range []struct {
				title, kind, ct string
				body            []byte
			}{
				{"Welcome and overview", "video", "video/mp4", []byte("\x00\x00\x00\x18ftypmp42 seed video of " + c.Title)},
				{"Workbook", "document", "application/pdf", []byte("%PDF-1.4\n% seed workbook of " + c.Title + "\n%%EOF\n")},
			} {
				var res struct {
					Upload struct {
						URL     string            `json:"url"`
						Headers map[string]string `json:"headers"`
					} `json:"upload"`
				}
				body := map[string]any{"title": l.title, "kind": l.kind, "contentType": l.ct, "sizeBytes": len(l.body)}
				if _, err := s.do("POST", "/courses/"+course.ID+"/lessons", tok, body, &res); err != nil {
					return err
				}
				if err := s.upload(res.Upload.URL, l.ct, l.body); err != nil {
					return err
				}
			}
		}
		if course.Status != "published" {
			if _, err := s.do("POST", "/courses/"+course.ID+"/publish", tok, map[string]any{}, nil); err != nil {
				return err
			}
			published++
		}
		course.PriceCents = c.Price
		all = append(all, course)
	}
	fmt.Fprintf(s.out, "courses: %d (%d created, %d published now)\n", len(all), created, published)

	sales, free, reviews := 0, 0, 0
	for l := 1; l <= nLearners; l++ {
		learner := fmt.Sprintf("seed-learner-%02d", l)
		tok := s.token(learner)
		for k := 0; k < 5; k++ {
			c := all[(l*7+k*11)%len(all)]
			if c.PriceCents == 0 {
				st, err := s.do("POST", "/courses/"+c.ID+"/purchase", tok,
					map[string]string{"successUrl": "http://localhost:5173/ok", "cancelUrl": "http://localhost:5173/no"}, nil, http.StatusConflict)
				if err != nil {
					return err
				}
				if st != http.StatusConflict {
					free++
				}
			} else {
				// Every third purchase is 40 days old: its share is released by the release job below.
				at := time.Now().Add(-time.Duration(1+k) * time.Hour)
				if (l+k)%3 == 0 {
					at = time.Now().Add(-40 * 24 * time.Hour)
				}
				id := learner + "_" + c.ID
				o := stripeevents.CoursePurchase(learner, c.ID, c.PriceCents)
				o.EventID, o.SessionID, o.PaymentIntentID, o.Created = "evt_seed_"+id, "cs_seed_"+id, "pi_seed_"+id, at
				payload, err := stripeevents.Build(stripeevents.CheckoutSessionCompleted, o)
				if err != nil {
					return err
				}
				if err := s.webhook(payload); err != nil {
					return err
				}
				sales++
			}
			body := map[string]any{"rating": 3 + (l+k)%3, "text": "Seeded review: clear and well paced."}
			if _, err := s.do("PUT", "/courses/"+c.ID+"/review", tok, body, nil); err != nil {
				return err
			}
			reviews++
		}
	}
	fmt.Fprintf(s.out, "learners: %d; paid purchases sent: %d; free enrolments: %d; reviews: %d\n", nLearners, sales, free, reviews)
	for _, job := range []string{"release-earnings", "refresh-catalog"} {
		var rep json.RawMessage
		if _, err := s.do("POST", "/_local/jobs/"+job, "", nil, &rep); err != nil {
			return err
		}
		fmt.Fprintf(s.out, "%s: %s\n", job, rep)
	}
	fmt.Fprintf(s.out, "browse: curl -s '%s/courses?q=go&sort=rating'\n", s.base)
	return nil
}

func (s *seeder) ownCourses(tok string) (map[string]seededCourse, error) {
	out := map[string]seededCourse{}
	cursor := ""
	for {
		var page struct {
			Courses    []seededCourse `json:"courses"`
			NextCursor string         `json:"nextCursor"`
		}
		path := "/instructors/me/courses?limit=50"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		if _, err := s.do("GET", path, tok, nil, &page); err != nil {
			return nil, err
		}
		for _, c := range page.Courses {
			out[c.Title] = c
		}
		if cursor = page.NextCursor; cursor == "" {
			return out, nil
		}
	}
}

// upload PUTs a file to its presigned URL (moto's S3), as a browser would.
func (s *seeder) upload(url, contentType string, body []byte) error {
	req, err := http.NewRequestWithContext(s.ctx, http.MethodPut, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("content-type", contentType)
	res, err := s.http.Do(req)
	if err != nil {
		return err
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("upload to the presigned URL: %d", res.StatusCode)
	}
	return nil
}

// webhook signs and posts a Stripe event, as Stripe does, after telling the Stripe stand-in about
// it (so the seeded purchases' charges can be refunded later).
func (s *seeder) webhook(payload []byte) error {
	if err := tellStripeState(s.ctx, s.http, s.stripeState, payload); err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, s.base+webhookPath(), bytes.NewReader(payload))
	if err != nil {
		return err
	}
	req.Header.Set("content-type", "application/json; charset=utf-8")
	req.Header.Set("stripe-signature", stripeevents.SignatureHeader(payload, s.secret, time.Now()))
	res, err := s.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		return errors.New("webhook: " + res.Status + " " + string(b))
	}
	return nil
}
