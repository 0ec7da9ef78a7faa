package privacy_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/auth"
	"github.com/liberation/monetization/shared/blob/blobtest"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/privacy"
	"github.com/liberation/monetization/shared/store"
)

// eraseQueue records erasure messages.
type eraseQueue struct {
	mu   sync.Mutex
	msgs []privacy.EraseMessage
}

func (q *eraseQueue) Send(_ context.Context, queue, typ, dedupe string, payload any) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if typ != privacy.MessageErase || dedupe == "" || queue != "personal-erasures" {
		return fmt.Errorf("unexpected message %s %q on %s", typ, dedupe, queue)
	}
	q.msgs = append(q.msgs, payload.(privacy.EraseMessage))
	return nil
}

func (q *eraseQueue) take() []privacy.EraseMessage {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := q.msgs
	q.msgs = nil
	return out
}

// eraseWorld is the erasure frame over a table with a fake queue.
type eraseWorld struct {
	clk  *clock.Fake
	s    *store.Store
	repo privacy.Repo
	q    *eraseQueue
	reg  *privacy.Registry
	run  *privacy.Runner
	reqs privacy.Requests
}

func newEraseWorld(t testing.TB) *eraseWorld {
	clk := clock.NewFake(t0)
	s := newTestStore(t, clk)
	w := &eraseWorld{clk: clk, s: s, repo: privacy.Repo{S: s}, q: &eraseQueue{}, reg: &privacy.Registry{}}
	w.run = &privacy.Runner{Repo: w.repo, Registry: w.reg, Queue: w.q, Clock: clk, StepsPerRun: 3}
	w.reqs = privacy.Requests{Clock: clk, Repo: w.repo, Queue: w.q}
	return w
}

// callBody runs a route handler with a JSON body, as the frame would.
func callBody(t testing.TB, h httpapi.Handler, p auth.Principal, body string, params map[string]string) (httpapi.Response, error) {
	t.Helper()
	ev := &events.APIGatewayV2HTTPRequest{PathParameters: params, Body: body,
		Headers: map[string]string{"content-type": "application/json"}}
	r := &httpapi.Request{Event: ev, Principal: p, ID: "req-1", Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	return h(context.Background(), r)
}

func (w *eraseWorld) deleteMe(t testing.TB, user, email, confirm string) (privacy.ErasureView, error) {
	t.Helper()
	r := &httpapi.Request{Event: &events.APIGatewayV2HTTPRequest{QueryStringParameters: map[string]string{"confirm": confirm}},
		Principal: auth.Principal{UserID: user, Email: email}, ID: "req-1", Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if confirm == "-" {
		r.Event.QueryStringParameters = nil
	}
	res, err := privacy.HandleDeleteMe(w.reqs)(context.Background(), r)
	if err != nil {
		return privacy.ErasureView{}, err
	}
	if res.Status != http.StatusAccepted {
		t.Fatalf("DELETE /me: %d", res.Status)
	}
	return res.Body.(privacy.ErasureView), nil
}

// drainErase runs every queued erasure message, redelivering a failed run, at most maxRuns runs.
func drainErase(t testing.TB, w *eraseWorld, maxRuns int) int {
	t.Helper()
	runs := 0
	pending := w.q.take()
	for len(pending) > 0 {
		m := pending[0]
		pending = pending[1:]
		if runs++; runs > maxRuns {
			t.Fatalf("still erasing after %d runs", maxRuns)
		}
		if err := w.run.Run(context.Background(), m); err != nil {
			pending = append([]privacy.EraseMessage{m}, pending...)
		}
		pending = append(pending, w.q.take()...)
	}
	return runs
}

// steps is an eraser of n records, one per step, recording which it erased (twice is a test
// failure: the checkpoint must keep a resumed run from repeating a step it saved), failing the
// step whose number fail returns an error for, and holding record hold (when > 0).
type steps struct {
	mu     sync.Mutex
	n      int
	erased map[int]int
	subj   []privacy.ErasureSubject
	fail   func(i int) error
	hold   int
}

func (e *steps) eraser() privacy.Eraser {
	e.erased = map[int]int{}
	return func(_ context.Context, s privacy.ErasureSubject, cursor string) (privacy.Step, error) {
		i := 0
		if cursor != "" {
			fmt.Sscan(cursor, &i)
		}
		if e.fail != nil {
			if err := e.fail(i); err != nil {
				return privacy.Step{}, err
			}
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		e.subj = append(e.subj, s)
		st := privacy.Step{Changed: 1}
		if i+1 == e.hold {
			st = privacy.Step{Holds: []privacy.Hold{{Reason: privacy.HoldOpenDispute, Ref: "dispute:dp_1", What: "record kept"}}}
		} else {
			e.erased[i]++
		}
		if i+1 < e.n {
			st.Next = fmt.Sprint(i + 1)
		}
		return st, nil
	}
}

// auditRecords reads every audit record of the day (the test table is small).
func auditRecords(t testing.TB, s *store.Store) []map[string]any {
	t.Helper()
	res, err := s.DB.Query(context.Background(), &dynamodb.QueryInput{TableName: &s.Table,
		KeyConditionExpression:    aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": store.S(store.AuditKey(t0, "x").PK)}})
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, it := range res.Items {
		out = append(out, privacy.Row(it))
	}
	return out
}

// DELETE /me erases in the background across every area's eraser, in registration order, a few
// steps a run (continuations on the queue), and survives a run failing midway: the step that
// failed is run again, no saved step twice. The request ends done, without the addresses it held,
// with audit records (request and done) naming the pseudonym and never the user.
func TestEraseRunsEveryAreaAndResumesAfterAnInterruption(t *testing.T) {
	w := newEraseWorld(t)
	failed := 0
	a := &steps{n: 4}
	b := &steps{n: 5, fail: func(i int) error {
		if i == 2 && failed == 0 {
			failed++
			return apperr.New(apperr.Unavailable, "table unreachable")
		}
		return nil
	}}
	w.reg.RegisterEraser("alpha", a.eraser())
	w.reg.RegisterEraser("beta", b.eraser())
	v, err := w.deleteMe(t, "alice", "Alice@Example.com", "ERASE")
	if err != nil || v.Status != privacy.ErasureQueued || !strings.HasPrefix(v.Pseudonym, "anon_") || v.RequestedBy != "self" {
		t.Fatalf("DELETE /me: %+v %v", v, err)
	}
	runs := drainErase(t, w, 20)
	if failed != 1 || runs < 4 {
		t.Fatalf("%d runs, %d failures: not interrupted, or not paged across messages", runs, failed)
	}
	for name, e := range map[string]*steps{"alpha": a, "beta": b} {
		for i := 0; i < e.n; i++ {
			if e.erased[i] != 1 {
				t.Errorf("%s record %d erased %d times", name, i, e.erased[i])
			}
		}
		for _, s := range e.subj {
			if s.UserID != "alice" || s.Pseudonym != v.Pseudonym || s.RequestID != v.ErasureID ||
				len(s.Emails) != 1 || s.Emails[0] != "alice@example.com" {
				t.Fatalf("%s got subject %+v", name, s)
			}
		}
	}
	e, err := w.repo.GetErasure(context.Background(), "alice")
	if err != nil || e.Status != privacy.ErasureDone || e.Changed != 9 || len(e.Emails) != 0 || e.ExpiresAt == 0 || e.FinishedAt == nil {
		t.Fatalf("request %+v %v", e, err)
	}
	recs := auditRecords(t, w.s)
	actions := map[string]bool{}
	for _, r := range recs {
		b, _ := json.Marshal(r)
		if strings.Contains(string(b), "alice") {
			t.Errorf("an audit record names the person: %s", b)
		}
		if r["target"] != "person:"+v.Pseudonym {
			t.Errorf("audit target %v, want the pseudonym", r["target"])
		}
		actions[fmt.Sprint(r["action"])] = true
	}
	if !actions["erasure.request"] || !actions["erasure.done"] || len(recs) != 2 {
		t.Errorf("audit actions %v (%d records), want the request and done", actions, len(recs))
	}
	// Asked again once done: the same request, nothing queued.
	again, err := w.deleteMe(t, "alice", "", "ERASE")
	if err != nil || again.ErasureID != v.ErasureID || again.Status != privacy.ErasureDone || len(w.q.take()) != 0 {
		t.Fatalf("second DELETE after done: %+v %v", again, err)
	}
}

// A second request while one runs answers with it (202, same id) and queues nothing, unless it
// has not moved for StaleAfter (its message was lost): then its message is sent again. An admin's
// request for the same user is the same request.
func TestASecondEraseAnswersWithTheRunningRequest(t *testing.T) {
	w := newEraseWorld(t)
	first, err := w.deleteMe(t, "bob", "", "ERASE")
	if err != nil || len(w.q.take()) != 1 {
		t.Fatalf("first: %+v %v", first, err)
	}
	w.clk.Advance(time.Minute)
	second, err := w.deleteMe(t, "bob", "", "ERASE")
	if err != nil || second.ErasureID != first.ErasureID || second.Pseudonym != first.Pseudonym || len(w.q.take()) != 0 {
		t.Fatalf("second while queued: %+v %v", second, err)
	}
	res, err := callBody(t, privacy.HandleAdminErase(w.reqs), auth.Principal{UserID: "admin-1", Groups: []string{"admin"}},
		`{"reason":"e-mail of 1 Dec"}`, map[string]string{"userId": "bob"})
	if err != nil || res.Status != http.StatusAccepted || res.Body.(privacy.ErasureView).ErasureID != first.ErasureID {
		t.Fatalf("admin erase of a requested user: %+v %v", res, err)
	}
	w.clk.Advance(privacy.StaleAfter)
	if _, err := w.deleteMe(t, "bob", "", "ERASE"); err != nil {
		t.Fatal(err)
	}
	if msgs := w.q.take(); len(msgs) != 1 || msgs[0].ErasureID != first.ErasureID {
		t.Fatalf("stale request not re-sent: %+v", msgs)
	}
}

// Bad input changes nothing: no confirmation, a wrong one; an admin's request
// without a reason or for a malformed user id.
func TestEraseRefusesBadInput(t *testing.T) {
	w := newEraseWorld(t)
	for _, confirm := range []string{"-", "", "erase", "ERASE ", "yes"} {
		if _, err := w.deleteMe(t, "carol", "", confirm); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("DELETE /me?confirm=%q: %v, want a 400", confirm, err)
		}
	}
	admin := auth.Principal{UserID: "admin-1", Groups: []string{"admin"}}
	for _, tc := range []struct{ user, body string }{
		{"carol", `{}`}, {"carol", `{"reason":"  "}`}, {"carol", `{"reason":"a\nb"}`},
		{"", `{"reason":"r"}`}, {"a#b", `{"reason":"r"}`}, {strings.Repeat("x", 129), `{"reason":"r"}`},
	} {
		if _, err := callBody(t, privacy.HandleAdminErase(w.reqs), admin, tc.body, map[string]string{"userId": tc.user}); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("admin erase %q %q: %v, want a 400", tc.user, tc.body, err)
		}
	}
	if _, err := w.repo.GetErasure(context.Background(), "carol"); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("a refused request wrote one: %v", err)
	}
	if len(w.q.take()) != 0 || len(auditRecords(t, w.s)) != 0 {
		t.Fatal("a refused request queued or audited something")
	}
}

// A hold leaves the request held, saying what and why; asking again after the hold ended runs a
// new pass from the first area, which finds nothing left but the held record and ends done.
func TestAHeldErasureSaysWhyAndFinishesWhenAskedAgain(t *testing.T) {
	w := newEraseWorld(t)
	e := &steps{n: 3, hold: 2}
	w.reg.RegisterEraser("payments", e.eraser())
	v, _ := w.deleteMe(t, "dan", "", "ERASE")
	drainErase(t, w, 10)
	got, err := w.repo.GetErasure(context.Background(), "dan")
	if err != nil || got.Status != privacy.ErasureHeld || len(got.Holds) != 1 || got.Holds[0].Area != "payments" ||
		got.Holds[0].Reason != privacy.HoldOpenDispute {
		t.Fatalf("held request %+v %v", got, err)
	}
	e.hold = 0 // the dispute closed
	res, err := w.deleteMe(t, "dan", "", "ERASE")
	if err != nil || res.ErasureID != v.ErasureID || res.Status != privacy.ErasureQueued {
		t.Fatalf("resume: %+v %v", res, err)
	}
	drainErase(t, w, 10)
	got, _ = w.repo.GetErasure(context.Background(), "dan")
	if got.Status != privacy.ErasureDone || len(got.Holds) != 0 || got.Pass != 2 || e.erased[1] != 1 {
		t.Fatalf("after the hold: %+v, erased %v", got, e.erased)
	}
}

// An area failing MaxAttempts runs in a row fails the pass, naming the area; asking again resumes
// from the checkpoint (the steps saved are not run again) and finishes.
func TestAFailedErasureResumesFromItsCheckpoint(t *testing.T) {
	w := newEraseWorld(t)
	broken := true
	e := &steps{n: 4, fail: func(i int) error {
		if i == 2 && broken {
			return apperr.New(apperr.Unavailable, "stripe down")
		}
		return nil
	}}
	w.reg.RegisterEraser("billing", e.eraser())
	w.deleteMe(t, "eve", "", "ERASE")
	drainErase(t, w, 20)
	got, _ := w.repo.GetErasure(context.Background(), "eve")
	if got.Status != privacy.ErasureFailed || !strings.HasPrefix(got.Error, "billing: ") || got.Area != 0 || got.Cursor != "2" {
		t.Fatalf("failed request %+v", got)
	}
	broken = false
	if _, err := w.deleteMe(t, "eve", "", "ERASE"); err != nil {
		t.Fatal(err)
	}
	drainErase(t, w, 20)
	got, _ = w.repo.GetErasure(context.Background(), "eve")
	if got.Status != privacy.ErasureDone || got.Changed != 4 {
		t.Fatalf("resumed request %+v", got)
	}
	for i := 0; i < 4; i++ {
		if e.erased[i] != 1 {
			t.Errorf("record %d erased %d times", i, e.erased[i])
		}
	}
}

// The admins' list holds exports and erasures, newest first, paged by cursor.
func TestPrivacyRequestsListsExportsAndErasuresNewestFirst(t *testing.T) {
	w := newEraseWorld(t)
	ew := &world{clk: w.clk, s: w.s, repo: w.repo, q: &memQueue{}}
	var want []string
	for i, u := range []string{"u1", "u2", "u3", "u4", "u5"} {
		w.clk.Advance(time.Minute)
		if i%2 == 0 {
			want = append(want, "export:"+ew.create(t, u, "").ExportID)
		} else {
			v, _ := w.deleteMe(t, u, "", "ERASE")
			want = append(want, "erasure:"+v.ErasureID)
		}
	}
	var got []string
	cursor := ""
	for pages := 0; pages < 5; pages++ {
		q := map[string]string{"limit": "2"}
		if cursor != "" {
			q["cursor"] = cursor
		}
		r := &httpapi.Request{Event: &events.APIGatewayV2HTTPRequest{QueryStringParameters: q},
			Principal: auth.Principal{UserID: "admin-1"}, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
		res, err := privacy.HandleListRequests(w.repo)(context.Background(), r)
		if err != nil {
			t.Fatal(err)
		}
		body := res.Body.(map[string]any)
		for _, v := range body["requests"].([]privacy.RequestView) {
			got = append(got, v.Kind+":"+v.ID)
		}
		next, _ := body["nextCursor"].(string)
		if next == "" {
			break
		}
		cursor = next
	}
	for i, j := 0, len(want)-1; i < j; i, j = i+1, j-1 {
		want[i], want[j] = want[j], want[i]
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("list\n got %v\nwant %v", got, want)
	}
}

// The frame's own eraser removes the person's exports — the items, the running pointer, the zip
// and parts with every version — and leaves another user's export as it was. Run again, it
// changes nothing.
func TestExportsEraserRemovesTheExportsWithEveryVersion(t *testing.T) {
	w := newWorld(t)
	bucket := blobtest.New()
	w.b.Blobs = bucket
	w.reg.RegisterExporter("numbers", counting(30, nil))
	alice := w.create(t, "alice", "alice@example.com")
	drain(t, w.b, w.q, 50)
	w.clk.Advance(time.Hour)
	second := w.create(t, "alice", "alice@example.com") // a second one, still queued
	bob := w.create(t, "bob", "bob@example.com")
	drain(t, w.b, w.q, 50)
	if err := bucket.Put(context.Background(), privacy.ZipObject(privacy.Export{ID: alice.ExportID, UserID: "alice"}), []byte("rewritten")); err != nil {
		t.Fatal(err) // an old version of alice's zip to remove too
	}
	bobKeys := 0
	for _, k := range bucket.Keys() {
		if strings.HasPrefix(k, "exports/bob/") {
			bobKeys++
		}
	}
	eraser := privacy.ExportsEraser(privacy.Reader{S: w.s}, w.repo, bucket)
	subj := privacy.ErasureSubject{UserID: "alice", Pseudonym: "anon_1", RequestID: "era_1"}
	for run, wantChanged := range []int{2, 0} {
		changed, cursor := 0, ""
		for i := 0; ; i++ {
			st, err := eraser(context.Background(), subj, cursor)
			if err != nil || i > 10 {
				t.Fatalf("run %d step %d: %v", run, i, err)
			}
			changed += st.Changed
			if cursor = st.Next; cursor == "" {
				break
			}
		}
		if changed != wantChanged {
			t.Fatalf("run %d changed %d, want %d", run, changed, wantChanged)
		}
	}
	for _, id := range []string{alice.ExportID, second.ExportID} {
		if _, err := w.repo.Get(context.Background(), "alice", id); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("export %s still there: %v", id, err)
		}
	}
	var pointer map[string]any
	if err := w.s.GetConsistent(context.Background(), store.RunningExportKey("alice"), &pointer); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("the running-export pointer is still there: %v %v", pointer, err)
	}
	left := 0
	for _, k := range bucket.Keys() {
		if strings.HasPrefix(k, "exports/alice/") && len(bucket.Versions(k)) > 0 {
			t.Errorf("%s keeps %d versions", k, len(bucket.Versions(k)))
		}
		if strings.HasPrefix(k, "exports/bob/") {
			left++
		}
	}
	if b, err := w.repo.Get(context.Background(), "bob", bob.ExportID); err != nil || b.Status != privacy.StatusReady || left != bobKeys {
		t.Fatalf("bob's export changed: %+v %v, %d of %d objects", b, err, left, bobKeys)
	}
}

// A run whose deadline is near hands the rest to its continuation after the step it is in, however
// few steps it took: the Lambda's timeout never cuts a step.
func TestARunNearItsDeadlineContinuesInTheNextMessage(t *testing.T) {
	w := newEraseWorld(t)
	w.run.StepsPerRun = 100
	e := &steps{n: 5}
	w.reg.RegisterEraser("payments", e.eraser())
	w.deleteMe(t, "fay", "", "ERASE")
	m := w.q.take()[0]
	ctx, cancel := context.WithTimeout(context.Background(), privacy.StepReserve-time.Second)
	defer cancel()
	if err := w.run.Run(ctx, m); err != nil {
		t.Fatal(err)
	}
	got, _ := w.repo.GetErasure(context.Background(), "fay")
	next := w.q.take()
	if got.Step != 1 || got.Status != privacy.ErasureRunning || len(next) != 1 || next[0].Step != 1 {
		t.Fatalf("near the deadline: %+v, messages %+v", got, next)
	}
}
