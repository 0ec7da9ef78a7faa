package rewards

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/queue"
)

// Learning events on the table (in process without the integration tag, moto with it): each earns
// once whatever the redeliveries, a lesson counts in the daily cap of the day it happened, and a
// time far ahead of our clock (or none) counts today.
func TestLearningEventsEarnOnceOnTheTable(t *testing.T) {
	clk := clock.NewFake(monday)
	st := newTestStore(t, clk)
	d := (&Deps{Clock: clk, Store: st, Fn: "apply-learning-events"}).With(NewRepo(st))
	msg := func(typ, id, lesson string, at time.Time) queue.Message {
		p, _ := json.Marshal(LearningEvent{EventID: id, Time: at, Source: LearningSource,
			Detail: LearningDetail{UserID: "lia", CourseID: "crs_1", LessonID: lesson}})
		return queue.Message{Type: typ, DedupeID: id, Payload: p}
	}
	apply := func(m queue.Message) {
		t.Helper()
		if err := d.earner().ApplyLearningEvent(bg, m); err != nil {
			t.Fatal(err)
		}
	}
	yesterday := monday.Add(-20 * time.Hour)
	for range 3 { // redelivered
		apply(msg(EventLessonCompleted, "ev-0", "l0", yesterday))
	}
	if a := mustAccountOf(t, d, "lia"); a.Balance != 5 || a.Seq != 1 {
		t.Fatalf("one lesson, three deliveries: %+v", a)
	}
	if earned, _, _ := d.guards().Cap(bg, "lia", RuleLessonCompleted, Day(yesterday)); earned != 5 {
		t.Fatalf("yesterday's cap %d", earned)
	}
	// Far ahead of the clock, and without a time: today's cap, which stops at 50.
	for i := 1; i <= 12; i++ {
		at := monday.Add(72 * time.Hour)
		if i%2 == 0 {
			at = time.Time{}
		}
		apply(msg(EventLessonCompleted, "ev-"+itoa(int64(i)), "l"+itoa(int64(i)), at))
	}
	if earned, _, _ := d.guards().Cap(bg, "lia", RuleLessonCompleted, Day(monday)); earned != 50 {
		t.Fatalf("today's cap %d", earned)
	}
	if _, found, _ := d.guards().Cap(bg, "lia", RuleLessonCompleted, Day(monday.Add(72*time.Hour))); found {
		t.Fatal("a future day's cap was used")
	}
	apply(msg(EventCourseCompleted, "ev-c", "", monday))
	apply(msg(EventCourseCompleted, "ev-c2", "", monday)) // another event id, the same course
	if a := mustAccountOf(t, d, "lia"); a.Balance != 155 || a.Seq != 12 || a.LifetimeEarned != 155 {
		t.Fatalf("after the course: %+v", a)
	}
}

func mustAccountOf(t *testing.T, d *Deps, user string) Account {
	t.Helper()
	a, err := d.Account(bg, user)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
