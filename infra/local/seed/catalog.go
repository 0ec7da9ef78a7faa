package seed

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/liberation/monetization/infra/local/stripeevents"
	"github.com/liberation/monetization/shared/marketplace/ledger"
)

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

// seedInstructors own the courses in turn.
var seedInstructors = []struct{ id, name string }{
	{InstructorID, "Ada Okafor"}, {"seed-instructor-2", "Lin Park"}, {"seed-instructor-3", "Marta Silva"},
	{"seed-instructor-4", "Tom Berg"}, {"seed-instructor-5", "Priya Nair"},
}

// learnerID is the n-th seeded learner (1-based).
func learnerID(n int) string { return fmt.Sprintf("seed-learner-%02d", n) }

type seededCourse struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Status      string `json:"status"`
	LessonCount int    `json:"lessonCount"`
	PriceCents  int64  `json:"priceCents"`
}

// catalogAndSales makes the catalog (found by title, else created, given lessons and published),
// then each learner's five purchases or free enrolments and reviews.
func (s *seeder) catalogAndSales() error {
	var all []seededCourse
	created, published := 0, 0
	owned := map[string]map[string]seededCourse{}
	for i, c := range seedCatalog(s.cfg.Courses) {
		in := seedInstructors[i%len(seedInstructors)]
		tok := s.token(in.id, "instructor")
		existing, ok := owned[in.id]
		if !ok {
			var err error
			if existing, err = s.ownCourses(tok); err != nil {
				return err
			}
			owned[in.id] = existing
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
						URL string `json:"url"`
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
	s.rep.Courses, s.rep.CoursesCreated, s.rep.CoursesPublished = len(all), created, published
	fmt.Fprintf(s.cfg.Out, "courses: %d (%d created, %d published now)\n", len(all), created, published)

	if err := s.payoutSales(all); err != nil {
		return err
	}

	sales, free, reviews := 0, 0, 0
	for l := 1; l <= s.cfg.Learners; l++ {
		learner := learnerID(l)
		tok := s.token(learner)
		enrolled, err := s.enrolments(tok)
		if err != nil {
			return err
		}
		for k := 0; k < 5; k++ {
			c := all[(l*7+k*11)%len(all)]
			switch {
			case c.PriceCents == 0 && enrolled[c.ID]:
				// Enrolled already: not asked again (each ask counts in the learner's rate limit,
				// an item a second run would add).
			case c.PriceCents == 0:
				enrolled[c.ID] = true
				st, err := s.do("POST", "/courses/"+c.ID+"/purchase", tok,
					map[string]string{"successUrl": "http://localhost:5173/ok", "cancelUrl": "http://localhost:5173/no"}, nil, http.StatusConflict)
				if err != nil {
					return err
				}
				if st != http.StatusConflict {
					free++
				}
			default:
				// Every third purchase is 40 days old: its share is released by the release job.
				at := s.now.Add(-time.Duration(1+k) * time.Hour)
				if (l+k)%3 == 0 {
					at = s.now.Add(-40 * 24 * time.Hour)
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
	s.rep.Learners, s.rep.PaidPurchases, s.rep.FreeEnrolments, s.rep.Reviews = s.cfg.Learners, sales, free, reviews
	fmt.Fprintf(s.cfg.Out, "learners: %d; paid purchases sent: %d; free enrolments: %d; reviews: %d\n", s.cfg.Learners, sales, free, reviews)
	return nil
}

// payoutSales give each Connect-enabled instructor enough sales old enough to be released (45
// days) for a payout above the minimum ($50 by default), so the payout run pays them: distinct
// buyers of their priciest course, with fixed event ids (the webhook dedupes them).
func (s *seeder) payoutSales(all []seededCourse) error {
	for _, instr := range connectedInstructors {
		var best *seededCourse
		for i, c := range all {
			if seedInstructors[i%len(seedInstructors)].id == instr && c.PriceCents > 0 && (best == nil || c.PriceCents > best.PriceCents) {
				best = &all[i]
			}
		}
		if best == nil {
			continue // a catalog too small for this instructor to sell anything
		}
		share := best.PriceCents * ledger.InstructorBasisPoints / 10000
		n := int((payoutTargetCents + share - 1) / share)
		for b := 1; b <= n; b++ {
			buyer := fmt.Sprintf("seed-buyer-%02d", b)
			id := buyer + "_" + best.ID
			o := stripeevents.CoursePurchase(buyer, best.ID, best.PriceCents)
			o.EventID, o.SessionID, o.PaymentIntentID, o.Created = "evt_seed_"+id, "cs_seed_"+id, "pi_seed_"+id, s.now.Add(-45*24*time.Hour)
			payload, err := stripeevents.Build(stripeevents.CheckoutSessionCompleted, o)
			if err != nil {
				return err
			}
			if err := s.webhook(payload); err != nil {
				return err
			}
		}
	}
	return nil
}

// payoutTargetCents is what payoutSales release to each connected instructor at least.
const payoutTargetCents = 6000

// marketJobs releases the old sales' shares and refreshes the catalog's search.
func (s *seeder) marketJobs() error {
	for _, job := range []string{"release-earnings", "refresh-catalog"} {
		rep, err := s.job(job)
		if err != nil {
			return err
		}
		fmt.Fprintf(s.cfg.Out, "%s: %s\n", job, rep)
	}
	return nil
}

// enrolments are the courses the caller is enrolled in, by id.
func (s *seeder) enrolments(tok string) (map[string]bool, error) {
	out := map[string]bool{}
	cursor := ""
	for {
		var page struct {
			Courses []struct {
				CourseID string `json:"courseId"`
			} `json:"courses"`
			NextCursor string `json:"nextCursor"`
		}
		path := "/me/courses?limit=50"
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		if _, err := s.do("GET", path, tok, nil, &page); err != nil {
			return nil, err
		}
		for _, c := range page.Courses {
			out[c.CourseID] = true
		}
		if cursor = page.NextCursor; cursor == "" {
			return out, nil
		}
	}
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
			path += "&cursor=" + url.QueryEscape(cursor)
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
