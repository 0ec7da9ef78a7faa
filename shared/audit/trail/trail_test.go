package trail_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/audit/trail"
	"github.com/liberation/monetization/shared/audit/verify"
	"github.com/liberation/monetization/shared/blob"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/store"
)

type memBlobs struct {
	mu      sync.Mutex
	objects map[string][]byte
	puts    int
}

var _ blob.Store = (*memBlobs)(nil)

func (m *memBlobs) Put(_ context.Context, o blob.Object, b []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.objects[o.Key] = b
	m.puts++
	return nil
}
func (m *memBlobs) Get(_ context.Context, key string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.objects[key]
	if !ok {
		return nil, apperr.New(apperr.NotFound, "no object")
	}
	return b, nil
}
func (m *memBlobs) Exists(_ context.Context, key string) (bool, error) {
	_, ok := m.objects[key]
	return ok, nil
}
func (m *memBlobs) PresignGet(context.Context, blob.Object, time.Duration) (string, error) {
	return "", nil
}
func (m *memBlobs) PresignPut(context.Context, blob.Object, int64, time.Duration) (string, error) {
	return "", nil
}

var day1 = time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC)

// seed writes records on three days: per day, two by alice on payment:pay_a (refund.create, then
// payment.record) and one by bob on payment:pay_b.
func seed(t *testing.T, s *store.Store, clk *clock.Fake) {
	t.Helper()
	for d := 0; d < 3; d++ {
		clk.Set(day1.AddDate(0, 0, d))
		for i, e := range []audit.Entry{
			{Actor: "alice", Action: "refund.create", Target: "payment:pay_a"},
			{Actor: "alice", Action: "payment.record", Target: "payment:pay_a"},
			{Actor: "bob", Action: "refund.create", Target: "payment:pay_b"},
		} {
			clk.Set(day1.AddDate(0, 0, d).Add(time.Duration(i) * time.Minute))
			if err := audit.Write(context.Background(), s, e); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// all reads every page of q.
func all(t *testing.T, s *store.Store, q trail.Query, limit int32) ([]audit.Record, int) {
	t.Helper()
	var out []audit.Record
	cursor, pages := "", 0
	for {
		recs, next, err := trail.Records(context.Background(), s, q, limit, cursor)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		out = append(out, recs...)
		if next == "" {
			return out, pages
		}
		if pages > 50 {
			t.Fatal("no end of pages")
		}
		cursor = next
	}
}

func TestRecordsByEachAccessPattern(t *testing.T) {
	clk := clock.NewFake(day1)
	s := newStore(t, clk)
	seed(t, s, clk)
	from, to := day1.Truncate(24*time.Hour), day1.AddDate(0, 0, 3).Truncate(24*time.Hour)
	cases := []struct {
		name  string
		q     trail.Query
		want  int
		check func(audit.Record) bool
	}{
		{"actor", trail.Query{Actor: "alice"}, 6, func(r audit.Record) bool { return r.Actor == "alice" }},
		{"actor and action", trail.Query{Actor: "alice", Action: "refund.create"}, 3, func(r audit.Record) bool { return r.Actor == "alice" && r.Action == "refund.create" }},
		{"actor and target", trail.Query{Actor: "alice", Target: "payment:pay_b"}, 0, nil},
		{"target", trail.Query{Target: "payment:pay_b"}, 3, func(r audit.Record) bool { return r.Target == "payment:pay_b" }},
		{"action over the days", trail.Query{Action: "refund.create"}, 6, func(r audit.Record) bool { return r.Action == "refund.create" }},
		{"every record", trail.Query{}, 9, nil},
	}
	for _, c := range cases {
		for _, limit := range []int32{1, 2, 100} {
			q := c.q
			q.From, q.To = from, to
			got, _ := all(t, s, q, limit)
			if len(got) != c.want {
				t.Errorf("%s (limit %d): %d records, want %d", c.name, limit, len(got), c.want)
				continue
			}
			for i, r := range got {
				if c.check != nil && !c.check(r) {
					t.Errorf("%s: record %+v does not match", c.name, r)
				}
				if i > 0 && r.At.Before(got[i-1].At) {
					t.Errorf("%s (limit %d): not oldest first at %d", c.name, limit, i)
				}
				if r.Seq == 0 || r.Hash == "" || r.Chain == "" {
					t.Errorf("%s: record without its chain fields: %+v", c.name, r)
				}
			}
		}
	}
	// The range: the middle day only, and to excluding its own second.
	got, _ := all(t, s, trail.Query{From: day1.AddDate(0, 0, 1).Truncate(24 * time.Hour), To: day1.AddDate(0, 0, 1).Add(time.Minute)}, 10)
	if len(got) != 1 || got[0].Action != "refund.create" || got[0].Actor != "alice" {
		t.Fatalf("the middle day's first minute: %+v", got)
	}
}

// A cursor is bound to its query: replayed against another query it is a 400.
func TestCursorBoundToTheQuery(t *testing.T) {
	clk := clock.NewFake(day1)
	s := newStore(t, clk)
	seed(t, s, clk)
	q := trail.Query{Actor: "alice", From: day1.AddDate(0, 0, -1), To: day1.AddDate(0, 0, 3)}
	_, next, err := trail.Records(context.Background(), s, q, 1, "")
	if err != nil || next == "" {
		t.Fatalf("first page: next %q, %v", next, err)
	}
	q.Actor = "bob"
	if _, _, err := trail.Records(context.Background(), s, q, 1, next); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("a cursor replayed on another query: %v", err)
	}
}

func TestParseQuery(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 30, 15, 500, time.UTC)
	q, err := trail.ParseQuery(map[string]string{}, now)
	if err != nil || !q.To.Equal(time.Date(2026, 12, 8, 0, 0, 0, 0, time.UTC)) || q.To.Sub(q.From) != trail.DefaultRange {
		t.Fatalf("defaults: %+v, %v", q, err)
	}
	q, err = trail.ParseQuery(map[string]string{"from": "2026-12-01", "to": "2026-12-02T10:00:00+01:00", "actor": "a"}, now)
	if err != nil || !q.From.Equal(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)) || !q.To.Equal(time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)) {
		t.Fatalf("explicit: %+v, %v", q, err)
	}
	for _, bad := range []map[string]string{
		{"from": "2026-12-02", "to": "2026-12-01"}, {"from": "2026-12-01", "to": "2026-12-01"},
		{"from": "2026-01-01", "to": "2026-12-01"}, {"from": "yesterday"}, {"to": "2026-13-01"},
		{"from": "1999-12-01", "to": "1999-12-02"}, {"actor": string(make([]byte, 201))},
	} {
		if _, err := trail.ParseQuery(bad, now); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("%v: want a 400, got %v", bad, err)
		}
	}
}

func event(detail string) events.EventBridgeEvent {
	return events.EventBridgeEvent{Detail: json.RawMessage(detail)}
}

// The seal is written once: a second run keeps it and finds the heads unchanged; the verify job
// then checks the day against it and counts a problem after an edit.
func TestSealIsIdempotentAndVerifyUsesIt(t *testing.T) {
	clk := clock.NewFake(day1)
	s := newStore(t, clk)
	seed(t, s, clk)
	b := &memBlobs{objects: map[string][]byte{}}
	ctx := context.Background()
	rep, err := trail.Seal(ctx, s, b, clk, "2026-12-05")
	if err != nil || rep.Records != 3 || rep.Already || b.puts != 1 {
		t.Fatalf("seal: %+v, %v (puts %d)", rep, err, b.puts)
	}
	var sealed verify.Seal
	if err := json.Unmarshal(b.objects[trail.SealKey("2026-12-05")], &sealed); err != nil || sealed.Records != 3 || sealed.Day != "2026-12-05" {
		t.Fatalf("stored seal %+v, %v", sealed, err)
	}
	rep, err = trail.Seal(ctx, s, b, clk, "2026-12-05")
	if err != nil || !rep.Already || rep.Differs || b.puts != 1 {
		t.Fatalf("second seal: %+v, %v (puts %d)", rep, err, b.puts)
	}
	var emitted []int64
	emit := func(_ context.Context, name string, v int64) {
		if name == trail.MetricChainBreaks {
			emitted = append(emitted, v)
		}
	}
	vr, err := trail.Verify(ctx, s, b, []string{"2026-12-05", "2026-12-06"}, emit)
	if err != nil || vr.Problems != 0 || !vr.Days[0].Sealed || vr.Days[1].Sealed || len(emitted) != 1 || emitted[0] != 0 {
		t.Fatalf("verify: %+v, %v, emitted %v", vr, err, emitted)
	}
	// Edit one record's actor directly in the table.
	items, _ := s.AuditDayItems(ctx, "2026-12-05")
	victim := items[1]
	if err := s.Update(ctx, &dynamodb.UpdateItemInput{Key: map[string]types.AttributeValue{"PK": victim["PK"], "SK": victim["SK"]},
		UpdateExpression: aws.String("SET actor = :a"), ExpressionAttributeValues: map[string]types.AttributeValue{":a": store.S("mallory")}}, nil); err != nil {
		t.Fatal(err)
	}
	vr, err = trail.Verify(ctx, s, b, []string{"2026-12-05"}, emit)
	if err != nil || vr.Problems != 1 || emitted[len(emitted)-1] != 1 {
		t.Fatalf("after an edit: %+v, %v, emitted %v", vr, err, emitted)
	}
	p := vr.Days[0].Problems[0]
	if p.Kind != verify.Edited || p.ID != victim["id"].(*types.AttributeValueMemberS).Value {
		t.Fatalf("problem %+v, want %v edited", p, victim["id"])
	}
}

func TestJobDays(t *testing.T) {
	// Exercised through the exported job entry points would need a runtime; the day rules are
	// checked through Verify's caller in the e2e test. Here: the detail shapes parse.
	for _, d := range []string{`{"day":"2026-12-05"}`, `{"from":"2026-12-01","to":"2026-12-05"}`, ``, `{"job":"audit-verify"}`} {
		if _, err := trail.Days(event(d), day1.AddDate(0, 0, 2), 31); err != nil {
			t.Errorf("%s: %v", d, err)
		}
	}
	for _, d := range []string{`{"day":"05/12/2026"}`, `{"from":"2026-12-05","to":"2026-12-01"}`, `{"day":"2027-01-01"}`, `[]`,
		fmt.Sprintf(`{"from":"2026-10-01","to":"%s"}`, "2026-12-05")} {
		if _, err := trail.Days(event(d), day1.AddDate(0, 0, 2), 31); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("%s: want Invalid, got %v", d, err)
		}
	}
	got, _ := trail.Days(event(``), day1.AddDate(0, 0, 2), 31)
	if len(got) != 1 || got[0] != "2026-12-06" {
		t.Errorf("default: %v, want yesterday 2026-12-06", got)
	}
}
