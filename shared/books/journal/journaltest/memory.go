// Package journaltest helps the areas test their books: Memory is the journal as their in-memory
// fakes keep it (the entries their changes post, checked by the rule journal.Repo.TransactPosting
// applies in the real transaction, so a fake and the table agree on what is posted, left out or
// refused), and Seeds the seeds of their random histories.
package journaltest

import (
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/books/journal"
)

// Memory holds posted entries by id, in posting order. Its zero value is ready; it has no lock of
// its own — the fake that embeds it holds its own around each change.
type Memory struct {
	byID  map[string]journal.Entry
	order []string
}

// Check is TransactPosting's rule for a change's entries, before anything is written: every entry
// must be valid; one posted before with the same content is the change's own posting and is left
// out; one posted before with other content refuses the change (apperr.Conflict). It returns the
// entries left to post.
func (m *Memory) Check(entries []journal.Entry) ([]journal.Entry, error) {
	var out []journal.Entry
	for _, e := range entries {
		if err := e.Validate(); err != nil {
			return nil, err
		}
		if prev, ok := m.byID[e.ID]; ok {
			if !journal.Same(prev, e) {
				return nil, apperr.New(apperr.Conflict, "journal entry %q was posted before with other content", e.ID)
			}
			continue
		}
		out = append(out, e)
	}
	return out, nil
}

// Post records entries as posted (after Check), copying their lines.
func (m *Memory) Post(entries ...journal.Entry) {
	if m.byID == nil {
		m.byID = map[string]journal.Entry{}
	}
	for _, e := range entries {
		e.Lines = append([]journal.Line(nil), e.Lines...)
		m.byID[e.ID] = e
		m.order = append(m.order, e.ID)
	}
}

// Get reads one posted entry.
func (m *Memory) Get(id string) (journal.Entry, bool) {
	e, ok := m.byID[id]
	e.Lines = append([]journal.Line(nil), e.Lines...)
	return e, ok
}

// Entries lists the posted entries in posting order (copies).
func (m *Memory) Entries() []journal.Entry {
	out := make([]journal.Entry, 0, len(m.order))
	for _, id := range m.order {
		e, _ := m.Get(id)
		out = append(out, e)
	}
	return out
}

// Net is every account's debits minus credits over the posted entries, per party ("" for lines
// without one).
func (m *Memory) Net() map[journal.AccountID]map[string]int64 {
	out := map[journal.AccountID]map[string]int64{}
	for _, id := range m.order {
		for _, l := range m.byID[id].Lines {
			if out[l.Account] == nil {
				out[l.Account] = map[string]int64{}
			}
			out[l.Account][l.Party] += l.Debit - l.Credit
		}
	}
	return out
}

// Seeds are the seeds of n random histories: consecutive from the clock (logged with the variable
// that replays one), or the single seed the environment variable env names.
func Seeds(t testing.TB, env string, n int) []int64 {
	t.Helper()
	if s := os.Getenv(env); s != "" {
		seed, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: %v", env, s, err)
		}
		return []int64{seed}
	}
	base := time.Now().UnixNano()
	t.Logf("seeds %d … %d (%s=<seed> replays one)", base, base+int64(n)-1, env)
	out := make([]int64, n)
	for i := range out {
		out[i] = base + int64(i)
	}
	return out
}
