package privacy_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/mail/mailtest"
	"github.com/liberation/monetization/shared/privacy"
	"github.com/liberation/monetization/shared/store"
)

var t0 = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

func TestRegistryKeepsOrderAndRefusesASecondExporterForAnArea(t *testing.T) {
	var r privacy.Registry
	none := func(context.Context, privacy.Subject, string, int) (privacy.Page, error) { return privacy.Page{}, nil }
	r.RegisterExporter("payments", none)
	r.RegisterExporter("billing", none)
	if got := r.Areas(); !reflect.DeepEqual(got, []string{"payments", "billing"}) {
		t.Fatalf("areas %v, want registration order", got)
	}
	if _, ok := r.Exporter("support"); ok {
		t.Fatal("an area that registered nothing has no exporter")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("a second exporter for payments must panic when the host is built")
		}
	}()
	r.RegisterExporter("payments", none)
}

// sliceSource serves rows from memory with a numeric cursor, as a store page would.
func sliceSource(typ string, rows []map[string]any) privacy.Source {
	return privacy.Source{Type: typ, Fetch: func(_ context.Context, cursor string, limit int) ([]map[string]any, string, error) {
		start := 0
		if cursor != "" {
			start, _ = strconv.Atoi(cursor)
		}
		end := min(start+limit, len(rows))
		next := ""
		if end < len(rows) {
			next = strconv.Itoa(end)
		}
		return rows[start:end], next, nil
	}}
}

func rowsOf(prefix string, n int) []map[string]any {
	out := make([]map[string]any, n)
	for i := range out {
		out[i] = map[string]any{"PK": "USER#u", "SK": fmt.Sprintf("%s#%03d", prefix, i), "id": fmt.Sprintf("%s-%d", prefix, i),
			"version": 3, "secret": "s"}
	}
	return out
}

// Reading an exporter page by page from each page's cursor gives every item exactly once, in
// order, across sources of any length (empty ones too), whatever the page size; keys, bookkeeping
// and omitted attributes never show; Expand may drop rows and add items.
func TestSourcesPageAcrossSourcesAndResumeFromAnyCursor(t *testing.T) {
	exp := privacy.Sources(func(s privacy.Subject) []privacy.Source {
		return []privacy.Source{
			sliceSource("a", rowsOf("a", 7)).Without("secret"),
			sliceSource("empty", nil),
			sliceSource("b", rowsOf("b", 5)).Without("secret").Expanding(func(_ context.Context, row, clean map[string]any) ([]privacy.Item, error) {
				if row["SK"] == "b#002" {
					return nil, nil // dropped: not the subject's
				}
				return []privacy.Item{{Type: "b", Data: clean}, {Type: "b-child", Data: map[string]any{"of": clean["id"]}}}, nil
			}),
		}
	})
	var want []string
	for i := 0; i < 7; i++ {
		want = append(want, fmt.Sprintf("a:a-%d", i))
	}
	for i := 0; i < 5; i++ {
		if i != 2 {
			want = append(want, fmt.Sprintf("b:b-%d", i), fmt.Sprintf("b-child:b-%d", i))
		}
	}
	for _, limit := range []int{1, 2, 3, 7, 100} {
		var got []string
		cursor, pages := "", 0
		for {
			p, err := exp(context.Background(), privacy.Subject{UserID: "u"}, cursor, limit)
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range p.Items {
				for _, hidden := range []string{"PK", "SK", "version", "secret"} {
					if _, ok := it.Data[hidden]; ok && it.Type != "b-child" {
						t.Fatalf("limit %d: %s shows %s: %v", limit, it.Type, hidden, it.Data)
					}
				}
				id, _ := it.Data["id"].(string)
				if it.Type == "b-child" {
					id, _ = it.Data["of"].(string)
				}
				got = append(got, it.Type+":"+id)
			}
			pages++
			if p.Next == "" {
				break
			}
			if pages > 100 {
				t.Fatalf("limit %d: no end", limit)
			}
			cursor = p.Next
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("limit %d:\n got %v\nwant %v", limit, got, want)
		}
	}
}

// world is the export frame over a table, with fake bucket, queue and mail.
type world struct {
	clk   *clock.Fake
	s     *store.Store
	repo  privacy.Repo
	blobs *memBlobs
	q     *memQueue
	mail  *mailtest.Recorder
	b     *privacy.Builder
	reg   *privacy.Registry
}

func newWorld(t testing.TB) *world {
	clk := clock.NewFake(t0)
	s := newTestStore(t, clk)
	w := &world{clk: clk, s: s, repo: privacy.Repo{S: s}, blobs: newBlobs(), q: &memQueue{}, mail: &mailtest.Recorder{}, reg: &privacy.Registry{}}
	w.b = &privacy.Builder{Repo: w.repo, Registry: w.reg, Blobs: w.blobs, Mail: w.mail, Idem: s, Queue: w.q, Clock: clk,
		From: "Liberation <privacy@liberation.local>", PageSize: 4, PagesPerRun: 3}
	return w
}

func (w *world) create(t testing.TB, user, email string) privacy.View {
	t.Helper()
	res, err := call(t, privacy.HandleCreate(w.clk, w.repo, w.q), user, email, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != http.StatusAccepted {
		t.Fatalf("POST /me/export: %d", res.Status)
	}
	return res.Body.(privacy.View)
}

func (w *world) get(t testing.TB, user, id string) (privacy.View, error) {
	t.Helper()
	res, err := call(t, privacy.HandleGet(w.clk, w.repo, w.blobs), user, "", map[string]string{"exportId": id})
	if err != nil {
		return privacy.View{}, err
	}
	return res.Body.(privacy.View), nil
}

// counting is an exporter of n numbered items in pages, failing when fail says so.
func counting(n int, fail func() error) privacy.Exporter {
	rows := rowsOf("n", n)
	return privacy.Sources(func(privacy.Subject) []privacy.Source {
		src := sliceSource("numbered", rows)
		fetch := src.Fetch
		src.Fetch = func(ctx context.Context, cursor string, limit int) ([]map[string]any, string, error) {
			if fail != nil {
				if err := fail(); err != nil {
					return nil, "", err
				}
			}
			return fetch(ctx, cursor, limit)
		}
		return []privacy.Source{src}
	})
}

// One export at a time per user: a second POST while it is being built answers with it (202,
// same id, no second message); once it is finished the next POST starts a new one. Another user's
// POST is independent.
func TestCreateRunsOneExportAtATime(t *testing.T) {
	w := newWorld(t)
	w.reg.RegisterExporter("numbers", counting(5, nil))
	first := w.create(t, "alice", "alice@example.com")
	if first.Status != privacy.StatusQueued || first.ExportID == "" {
		t.Fatalf("first export %+v", first)
	}
	msgs := w.q.take()
	if len(msgs) != 1 || msgs[0].ExportID != first.ExportID || msgs[0].UserID != "alice" {
		t.Fatalf("messages %+v", msgs)
	}
	w.clk.Advance(time.Minute)
	again := w.create(t, "alice", "alice@example.com")
	if again.ExportID != first.ExportID {
		t.Fatalf("second POST while running gave %s, want %s", again.ExportID, first.ExportID)
	}
	if n := len(w.q.take()); n != 0 {
		t.Fatalf("a second POST sent %d messages for a running export", n)
	}
	bob := w.create(t, "bob", "bob@example.com")
	if bob.ExportID == first.ExportID {
		t.Fatal("bob got alice's export")
	}
	w.q.take()
	// Its message was lost: after StaleAfter the next POST sends it again.
	w.clk.Advance(privacy.StaleAfter)
	if again := w.create(t, "alice", "alice@example.com"); again.ExportID != first.ExportID {
		t.Fatalf("stale export replaced: %s", again.ExportID)
	}
	msgs = w.q.take()
	if len(msgs) != 1 || msgs[0].ExportID != first.ExportID {
		t.Fatalf("a stale export's message is sent again, got %+v", msgs)
	}
	w.q.msgs = msgs
	drain(t, w.b, w.q, 10)
	v, err := w.get(t, "alice", first.ExportID)
	if err != nil || v.Status != privacy.StatusReady {
		t.Fatalf("after the build: %+v %v", v, err)
	}
	w.clk.Advance(time.Minute)
	next := w.create(t, "alice", "alice@example.com")
	if next.ExportID == first.ExportID || next.Status != privacy.StatusQueued {
		t.Fatalf("after the first finished, a POST must start a new export, got %+v", next)
	}
}

// The build pages with a checkpoint on the export item and puts its continuation on the queue
// after PagesPerRun pages; a run interrupted midway (the bucket refuses a part) is redelivered and
// resumes from the last checkpoint, so the document holds every item exactly once. The e-mail
// goes once, with a link valid 24 h.
func TestBuildIsPagedAndResumesAfterAnInterruption(t *testing.T) {
	w := newWorld(t)
	w.reg.RegisterExporter("numbers", counting(50, nil))
	w.reg.RegisterExporter("empty", counting(0, nil))
	v := w.create(t, "alice", "alice@example.com")
	w.blobs.failAt = 6 // the 6th object written: a part in the second run
	runs := drain(t, w.b, w.q, 40)
	if w.blobs.failed != 1 {
		t.Fatalf("the interruption did not happen (%d puts)", w.blobs.puts)
	}
	// 50 items in pages of 4 = 13 pages, 3 per run: 5 runs, + 1 redelivery, + the empty area.
	if runs < 5 {
		t.Fatalf("%d runs: the build did not page across messages", runs)
	}
	e, err := w.repo.Get(context.Background(), "alice", v.ExportID)
	if err != nil {
		t.Fatal(err)
	}
	if e.Status != privacy.StatusReady || e.Items != 50 || e.Step < 13 || e.LinkExpiresAt == nil ||
		!e.LinkExpiresAt.Equal(e.ReadyAt.Add(24*time.Hour)) {
		t.Fatalf("export %+v", e)
	}
	doc, _ := document(t, w.blobs.objs[e.ObjectKey])
	items := doc.Areas["numbers"].Items
	if doc.ItemCount != 50 || len(items) != 50 {
		t.Fatalf("document holds %d (%d) items, want 50", len(items), doc.ItemCount)
	}
	for i, it := range items {
		if it.Data["id"] != fmt.Sprintf("n-%d", i) {
			t.Fatalf("item %d is %v: duplicated or lost across the interruption", i, it.Data["id"])
		}
	}
	if _, ok := doc.Areas["empty"]; !ok || doc.UserID != "alice" || doc.Format != privacy.DocumentFormat {
		t.Fatalf("document header %+v", doc)
	}
	sent := w.mail.To("alice@example.com")
	if len(sent) != 1 || len(w.blobs.presign) != 1 {
		t.Fatalf("%d e-mails, %d links; want one of each", len(sent), len(w.blobs.presign))
	}
	if want := fmt.Sprintf("ttl=%d", int((24 * time.Hour).Seconds())); !contains(sent[0].Text, w.blobs.presign[0]) || !contains(w.blobs.presign[0], want) {
		t.Fatalf("e-mail does not hold the 24 h link %s:\n%s", w.blobs.presign[0], sent[0].Text)
	}
	// A duplicate delivery of an old message after the end changes nothing and sends nothing.
	if err := w.b.Run(context.Background(), privacy.Message{UserID: "alice", ExportID: v.ExportID, Step: 2}); err != nil {
		t.Fatal(err)
	}
	if len(w.mail.Sent()) != 1 || len(w.q.take()) != 0 {
		t.Fatal("a late duplicate did more work")
	}
}

func contains(s, sub string) bool { return len(sub) > 0 && len(s) >= len(sub) && indexOf(s, sub) >= 0 }

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

// An exporter that keeps failing fails the export after MaxAttempts runs in a row (the message is
// acknowledged, not dead-lettered) and frees the user to ask again.
func TestBuildFailsAfterRepeatedErrors(t *testing.T) {
	w := newWorld(t)
	boom := errors.New("area down")
	w.reg.RegisterExporter("broken", counting(3, func() error { return boom }))
	v := w.create(t, "alice", "")
	m := w.q.take()[0]
	for i := 1; i < privacy.MaxAttempts; i++ {
		if err := w.b.Run(context.Background(), m); err == nil {
			t.Fatalf("run %d: a failed run must return its error (the message is retried)", i)
		}
	}
	if err := w.b.Run(context.Background(), m); err != nil {
		t.Fatalf("the last attempt fails the export and acknowledges the message, got %v", err)
	}
	got, err := w.get(t, "alice", v.ExportID)
	if err != nil || got.Status != privacy.StatusFailed || got.URL != "" {
		t.Fatalf("export %+v %v, want failed without a link", got, err)
	}
	if next := w.create(t, "alice", ""); next.ExportID == v.ExportID {
		t.Fatal("a failed export still blocks a new one")
	}
}

// GET /me/exports/{id} is its owner's only: another user's id, an unknown id and a malformed one
// are all 404. The owner sees the status, and the link while the 24 h last; then "expired".
func TestGetShowsTheLinkToItsOwnerOnly(t *testing.T) {
	w := newWorld(t)
	w.reg.RegisterExporter("numbers", counting(2, nil))
	v := w.create(t, "alice", "alice@example.com")
	got, err := w.get(t, "alice", v.ExportID)
	if err != nil || got.Status != privacy.StatusQueued || got.URL != "" {
		t.Fatalf("queued export %+v %v", got, err)
	}
	drain(t, w.b, w.q, 5)
	for _, tc := range []struct{ user, id string }{
		{"bob", v.ExportID},                         // another user's
		{"alice", "exp_01JDZC7T4V6X8Z0B2D4F6H8J9K"}, // unknown
		{"alice", "not-an-id"},                      // malformed
		{"alice", v.ExportID + "x"},
	} {
		if _, err := w.get(t, tc.user, tc.id); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("%s reading %s: %v, want 404", tc.user, tc.id, err)
		}
	}
	w.clk.Advance(23 * time.Hour)
	got, err = w.get(t, "alice", v.ExportID)
	if err != nil || got.Status != privacy.StatusReady || got.URL == "" || got.URLExpiresAt == nil || got.Items != 2 {
		t.Fatalf("ready export %+v %v", got, err)
	}
	if want := "ttl=3600"; !contains(got.URL, want) {
		t.Fatalf("the link must end with the e-mailed one's 24 h (1 h left), got %s", got.URL)
	}
	w.clk.Advance(time.Hour)
	got, err = w.get(t, "alice", v.ExportID)
	if err != nil || got.Status != privacy.StatusExpired || got.URL != "" {
		t.Fatalf("after 24 h: %+v %v, want expired without a link", got, err)
	}
}

// A finish that fails at the e-mail (SES refuses) is retried later: the link's 24 h still run from
// when the zip was first stored, as the checkpoint recorded, and the e-mail goes once.
func TestFinishRetriedAfterTheEmailKeepsTheLinksEnd(t *testing.T) {
	w := newWorld(t)
	w.reg.RegisterExporter("numbers", counting(1, nil))
	v := w.create(t, "alice", "alice@example.com")
	w.mail.Fail = errors.New("ses: sending paused")
	msgs := w.q.take()
	for len(msgs) > 0 { // until the run that reaches the e-mail fails
		err := w.b.Run(context.Background(), msgs[0])
		if err != nil {
			break
		}
		msgs = w.q.take()
	}
	e, err := w.repo.Get(context.Background(), "alice", v.ExportID)
	if err != nil || e.Status != privacy.StatusRunning || e.ReadyAt == nil || e.Attempts != 1 {
		t.Fatalf("after the failed e-mail: %+v %v", e, err)
	}
	firstReady := *e.ReadyAt
	w.mail.Fail = nil
	w.clk.Advance(time.Hour)
	if err := w.b.Run(context.Background(), msgs[0]); err != nil {
		t.Fatal(err)
	}
	got, err := w.get(t, "alice", v.ExportID)
	if err != nil || got.Status != privacy.StatusReady || got.URLExpiresAt == nil || !got.URLExpiresAt.Equal(firstReady.Add(24*time.Hour)) {
		t.Fatalf("after the retry: %+v %v, want the link to end at %s", got, err, firstReady.Add(24*time.Hour))
	}
	if n := len(w.mail.Sent()); n != 1 {
		t.Fatalf("%d e-mails", n)
	}
}
