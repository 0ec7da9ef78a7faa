package support

import (
	"context"
	"maps"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/billing/records"
	"github.com/liberation/monetization/shared/ids"
	"github.com/liberation/monetization/shared/licensing"
	"github.com/liberation/monetization/shared/store"
	"github.com/liberation/monetization/shared/store/storetest"
)

// memRepo is an in-memory implementation of support's storage ports with the semantics dynamoRepo
// has over DynamoDB where the rules depend on them: a ticket write is all-or-nothing and fails with
// a condition error unless the ticket is still at the version read (or, new, absent), a message is
// written only if absent, the schedule entry moves with the ticket, the statistics add per day, and
// items are round-tripped through attributevalue so nothing the caller holds aliases what is
// stored. The contract test runs the same cases against dynamoRepo on moto.
type memRepo struct {
	mu       sync.Mutex
	tickets  map[string]Ticket
	messages map[string][]Message // ticket id → messages, in SK order
	due      map[string]dueEntry  // "<due>#<ticket>" → entry
	stats    map[string]map[string]int64
	dayCtrs  map[string]map[string]int64
	usage    map[string]int64 // "<license>#<priority>" → tickets
	audits   []audit.Entry
	agents   map[string]Agent
	subs     map[string]records.Subscription
	writes   int
	// beforeWrite, when set, runs before each ticket write (without the lock), so a test can change
	// the ticket underneath and make the write lose its race.
	beforeWrite func(w ticketWrite)
}

var _ storage = (*memRepo)(nil)

func newMemRepo() *memRepo {
	return &memRepo{tickets: map[string]Ticket{}, messages: map[string][]Message{}, due: map[string]dueEntry{},
		stats: map[string]map[string]int64{}, dayCtrs: map[string]map[string]int64{}, usage: map[string]int64{},
		agents: map[string]Agent{}, subs: map[string]records.Subscription{}}
}

func roundTrip[T any](v T) T { return storetest.Copy(v) }

func conditionFailed() error {
	return apperr.Wrap(store.ErrConditionFailed, apperr.Conflict, "the record changed or already exists")
}

func (m *memRepo) Ticket(_ context.Context, id string) (Ticket, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tickets[id]
	if !ids.Valid("tkt", id) || !ok {
		return Ticket{}, apperr.New(apperr.NotFound, "ticket not found")
	}
	return roundTrip(t).normalised(), nil
}

func dueKey(at time.Time, id string) string { return store.SortTime(at) + "#" + id }

func (m *memRepo) WriteTicket(_ context.Context, w ticketWrite) error {
	if m.beforeWrite != nil {
		m.beforeWrite(w)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, exists := m.tickets[w.Next.ID]
	if w.Prev.Version == 0 && exists || w.Prev.Version != 0 && (!exists || cur.Version != w.Prev.Version) {
		return conditionFailed()
	}
	if w.Message != nil {
		for _, old := range m.messages[w.Next.ID] {
			if old.ID == w.Message.ID && old.At.Equal(w.Message.At) {
				return conditionFailed()
			}
		}
	}
	// Every condition holds: apply all of it.
	m.writes++
	m.tickets[w.Next.ID] = roundTrip(w.Next)
	if !sameTime(w.Prev.NextDueAt, w.Next.NextDueAt) {
		if w.Prev.NextDueAt != nil {
			delete(m.due, dueKey(*w.Prev.NextDueAt, w.Prev.ID))
		}
		if w.Next.NextDueAt != nil {
			k := dueKey(*w.Next.NextDueAt, w.Next.ID)
			at, _ := time.Parse(time.RFC3339, store.SortTime(*w.Next.NextDueAt))
			m.due[k] = dueEntry{TicketID: w.Next.ID, At: at, Key: k}
		}
	}
	if w.Message != nil {
		msgs := append(m.messages[w.Next.ID], roundTrip(*w.Message))
		sort.SliceStable(msgs, func(i, j int) bool {
			return store.TicketMessageKey(w.Next.ID, msgs[i].At, msgs[i].ID).SK < store.TicketMessageKey(w.Next.ID, msgs[j].At, msgs[j].ID).SK
		})
		m.messages[w.Next.ID] = msgs
	}
	if w.CountUsage && w.Next.LicenseID != "" {
		m.usage[w.Next.LicenseID+"#"+w.Next.Priority]++
	}
	for _, d := range statDeltas(w.Outcomes) {
		add(m.stats, d.Day.UTC().Format("2006-01-02"), d.Deltas)
	}
	if n := breaches(w.Outcomes); n > 0 {
		add(m.dayCtrs, w.At.UTC().Format("2006-01-02"), map[string]int64{store.CtrSLABreaches: n})
	}
	if w.Audit != nil {
		m.audits = append(m.audits, *w.Audit)
	}
	return nil
}

func add(into map[string]map[string]int64, day string, deltas map[string]int64) {
	if into[day] == nil {
		into[day] = map[string]int64{}
	}
	for k, v := range deltas {
		into[day][k] += v
	}
}

func (m *memRepo) Messages(_ context.Context, ticketID string) ([]Message, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return roundTrip(struct{ M []Message }{append([]Message{}, m.messages[ticketID]...)}).M, nil
}

// page is one page of items from the position cursor ("" first; the fake's cursors are offsets).
func page(items []Ticket, limit int32, cursor string) (store.Page[Ticket], error) {
	from := 0
	if cursor != "" {
		n, err := strconv.Atoi(cursor)
		if err != nil || n < 0 || n > len(items) {
			return store.Page[Ticket]{}, apperr.New(apperr.Invalid, "cursor is invalid")
		}
		from = n
	}
	to := min(from+int(limit), len(items))
	p := store.Page[Ticket]{Items: append([]Ticket{}, items[from:to]...)}
	if to < len(items) {
		p.NextCursor = strconv.Itoa(to)
	}
	return p, nil
}

func (m *memRepo) sorted(keep func(Ticket) bool, newestFirst bool) []Ticket {
	var out []Ticket
	for _, t := range m.tickets {
		if keep(t) {
			out = append(out, roundTrip(t))
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := store.SortTime(out[i].CreatedAt)+"#"+out[i].ID, store.SortTime(out[j].CreatedAt)+"#"+out[j].ID
		return a < b != newestFirst
	})
	return out
}

func (m *memRepo) RequesterTickets(_ context.Context, userID string, limit int32, cursor string) (store.Page[Ticket], error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return page(m.sorted(func(t Ticket) bool { return t.RequesterID == userID }, true), limit, cursor)
}

func (m *memRepo) Queue(_ context.Context, status string, limit int32, cursor string) (store.Page[Ticket], error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return page(m.sorted(func(t Ticket) bool { return t.Status == status }, false), limit, cursor)
}

func (m *memRepo) Agent(_ context.Context, userID string) (Agent, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.agents[userID]
	if !ok {
		return Agent{}, apperr.New(apperr.NotFound, "not found")
	}
	return a, nil
}

func (m *memRepo) SaveAgent(_ context.Context, a Agent) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.agents[a.UserID] = a
	return nil
}

func (m *memRepo) EachDue(ctx context.Context, until time.Time, f func(dueEntry) error) error {
	m.mu.Lock()
	var due []dueEntry
	for _, k := range slices.Sorted(maps.Keys(m.due)) {
		if k < store.SortTime(until)+"#~" {
			due = append(due, m.due[k])
		}
	}
	m.mu.Unlock()
	for _, e := range due {
		if err := f(e); err != nil {
			return err
		}
	}
	return nil
}

func (m *memRepo) DropDue(_ context.Context, e dueEntry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.due, e.Key)
	return nil
}

func (m *memRepo) SLAStats(_ context.Context, from, to time.Time) (map[string]int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	total := map[string]int64{}
	for day, ctrs := range m.stats {
		if day >= from.UTC().Format("2006-01-02") && day <= to.UTC().Format("2006-01-02") {
			for k, v := range ctrs {
				total[k] += v
			}
		}
	}
	return total, nil
}

func (m *memRepo) GetSubscription(_ context.Context, userID string) (records.Subscription, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.subs[userID]
	if !ok {
		return s, apperr.New(apperr.NotFound, "not found")
	}
	return s, nil
}

// memOrgs is licensing as support sees it: seats, org admins, brandings, activity.
type memOrgs struct {
	mu       sync.Mutex
	seats    map[string]licensing.SeatInfo
	admins   map[string]bool // "<license>#<user>"
	branding map[string]licensing.Branding
	active   []string
	err      error // returned by every call when set
}

func newMemOrgs() *memOrgs {
	return &memOrgs{seats: map[string]licensing.SeatInfo{}, admins: map[string]bool{}, branding: map[string]licensing.Branding{}}
}

func (o *memOrgs) Seat(_ context.Context, userID string, _ time.Time) (licensing.SeatInfo, bool, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	s, ok := o.seats[userID]
	return s, ok, o.err
}

func (o *memOrgs) IsOrgAdmin(_ context.Context, licenseID, userID string) (bool, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.admins[licenseID+"#"+userID], o.err
}

func (o *memOrgs) Branding(_ context.Context, userID string) (licensing.Branding, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if b, ok := o.branding[userID]; ok {
		return b, o.err
	}
	return licensing.PlatformBranding(), o.err
}

func (o *memOrgs) RecordActivity(_ context.Context, userID, _ string, _ time.Time) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.active = append(o.active, userID)
	return o.err
}
