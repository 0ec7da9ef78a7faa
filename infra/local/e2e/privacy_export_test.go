//go:build integration

package e2e

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/privacy"
	"github.com/liberation/monetization/shared/privacy/privacytest"
)

// exportLink is the download link in the export e-mail's text.
var exportLink = regexp.MustCompile(`https?://[^\s"<>]+personal-data-exp_[^\s"<>]+`)

// A learner with data in several areas — a course bought (enrolment, payment with its receipt
// PDF, a review), a support ticket with an agent's reply — exports through the gateway: 202, a
// second POST answers the same export, the consumer builds it over its queue (the poller delivers
// the continuation messages), the e-mail in mailpit holds the link, and the zip it downloads holds
// the learner's items and their receipt PDF — and nothing of another buyer of the same course.
// The owner's GET shows the link; another user gets 404. The instructor's own export holds the
// sale without the buyer and not the learner's review. Every grant of the three functions is used.
func TestPersonalDataExportThroughTheGateway(t *testing.T) {
	m := startMarket(t)
	instructor, learner, other := m.id("exp-instr"), m.id("exp-learner"), m.id("exp-other")
	itok := m.Token(t, instructor, instructor+"@example.com", "instructor")
	ltok := m.Token(t, learner, learner+"@example.com")
	otok := m.Token(t, other, other+"@example.com")
	agent := m.Token(t, m.id("exp-agent"), m.id("exp-agent")+"@support.liberation.example", manifest.GroupSupport)

	// Data in several areas: two buyers of one course (payments, sales, enrolments, receipts), a
	// review, a ticket with the learner's message and an agent's reply.
	c, _ := m.publishedCourse(t, itok, "Privacy by design", 1299)
	for _, who := range []string{learner, other} {
		_, paid := m.purchase(who, c.ID, 1299, time.Now().Add(-time.Minute))
		post(t, m.Harness, paid)
	}
	m.Drain(t, manifest.ReceiptsQueue)
	m.Call(t, "PUT", "/courses/"+c.ID+"/review", ltok, map[string]any{"rating": 5, "text": "Learnt a lot " + m.run}, 201, nil)
	var tk struct{ ID string }
	m.Call(t, http.MethodPost, "/support/tickets", ltok, map[string]string{"subject": "Where is my invoice",
		"body": "I need the invoice " + m.run, "priority": "normal"}, http.StatusCreated, &tk)
	m.Call(t, http.MethodPost, "/support/tickets/"+tk.ID+"/replies", agent, map[string]string{"body": "Attached, see your receipts."}, http.StatusCreated, nil)

	// The export: 202, and the same export while it runs.
	var first, again privacy.View
	m.Call(t, "POST", "/me/export", ltok, nil, http.StatusAccepted, &first, map[string]string{"Idempotency-Key": "export-" + m.run})
	m.Call(t, "POST", "/me/export", ltok, nil, http.StatusAccepted, &again)
	if first.ExportID == "" || again.ExportID != first.ExportID {
		t.Fatalf("one export at a time: %+v then %+v", first, again)
	}
	m.Call(t, "GET", "/me/exports/"+first.ExportID, otok, nil, http.StatusNotFound, nil)
	m.Drain(t, manifest.ExportsQueue)

	// The e-mail holds the link; the zip holds the learner's items.
	msgs := m.Env.Mailpit.WaitFor(t, "to:"+learner+"@example.com subject:\"Your data export is ready\"", 1)
	full := m.Env.Mailpit.Get(t, msgs[0].ID)
	link := exportLink.FindString(full.Text)
	if link == "" {
		t.Fatalf("no download link in the e-mail:\n%s", full.Text)
	}
	doc, files := downloadExport(t, link)
	if doc.UserID != learner || doc.ItemCount == 0 {
		t.Fatalf("document %+v", doc)
	}
	types := map[string]int{}
	for _, ax := range doc.Areas {
		for _, it := range ax.Items {
			types[it.Type]++
		}
	}
	for typ, n := range map[string]int{"payment": 1, "enrollment": 1, "review": 1, "ticket": 1, "ticket-message": 2, "user": 1} {
		if types[typ] != n {
			t.Errorf("%d %s items, want %d (all: %v)", types[typ], typ, n, types)
		}
	}
	js := string(files[privacy.DocumentName])
	for _, must := range []string{`"amountCents": 1299`, "Learnt a lot " + m.run, "I need the invoice " + m.run, "Attached, see your receipts.", c.ID} {
		if !strings.Contains(js, must) {
			t.Errorf("export.json lacks %q", must)
		}
	}
	for _, never := range []string{other, m.id("exp-agent"), `"PK"`} {
		if strings.Contains(js, never) {
			t.Errorf("export.json holds %q", never)
		}
	}
	if len(doc.Files) != 1 || !strings.HasPrefix(string(files[doc.Files[0]]), "%PDF-") {
		t.Errorf("the zip's files %v: want the receipt PDF", doc.Files)
	}

	// The owner's GET: ready with a link; another user's: 404.
	var got privacy.View
	m.Call(t, "GET", "/me/exports/"+first.ExportID, ltok, nil, http.StatusOK, &got)
	if got.Status != privacy.StatusReady || got.URL == "" || got.Items != doc.ItemCount {
		t.Fatalf("ready export %+v", got)
	}
	m.Call(t, "GET", "/me/exports/"+first.ExportID, otok, nil, http.StatusNotFound, nil)

	// The instructor's export: the sales without their buyers, not the learner's review.
	var mine privacy.View
	m.Call(t, "POST", "/me/export", itok, nil, http.StatusAccepted, &mine)
	m.Drain(t, manifest.ExportsQueue)
	m.Call(t, "GET", "/me/exports/"+mine.ExportID, itok, nil, http.StatusOK, &mine)
	if mine.Status != privacy.StatusReady || mine.URL == "" {
		t.Fatalf("instructor's export %+v", mine)
	}
	idoc, ifiles := downloadExport(t, mine.URL)
	sales := 0
	for _, it := range idoc.Areas["marketplace"].Items {
		if it.Type == "sale" {
			sales++
		}
	}
	ijs := string(ifiles[privacy.DocumentName])
	if sales != 2 {
		t.Errorf("instructor's export: %d sales, want 2", sales)
	}
	for _, never := range []string{learner, other, "Learnt a lot"} {
		if i := strings.Index(ijs, never); i >= 0 {
			t.Errorf("instructor's export holds %q: …%s…", never, ijs[max(0, i-300):min(len(ijs), i+100)])
		}
	}

	usesCoverGrants(t, "create-personal-export", "sqs:SendMessage")
	usesCoverGrants(t, "get-personal-export", "s3:GetObject")
	usesCoverGrants(t, "build-personal-export", "ses:SendEmail")
}

// downloadExport fetches a zip from its presigned link and reads its document.
func downloadExport(t *testing.T, link string) (privacy.Document, map[string][]byte) {
	t.Helper()
	body := fetch(t, link)
	files := privacytest.Unzip(t, body)
	var doc privacy.Document
	dec := json.NewDecoder(strings.NewReader(string(files[privacy.DocumentName])))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("export.json: %v (files %d)", err, len(files))
	}
	return doc, files
}
