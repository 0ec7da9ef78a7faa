package billing

import (
	"context"
	"fmt"
	"maps"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/stripe/stripe-go/v76"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/marketplace/mktmetrics"
	"github.com/liberation/monetization/shared/rewards/tokenmetrics"
	"github.com/liberation/monetization/shared/store"
	"github.com/liberation/monetization/shared/support/slametrics"
)

// memRepo is an in-memory implementation of every repository interface of ports.go with the
// semantics dynamoRepo has over DynamoDB: versioned subscription writes that fail with a condition
// error on a lost race and apply their metric deltas atomically, first-write-wins snapshots and job
// runs, open/resolved other-subscription records. The integration tests run the same scenarios
// against DynamoDB (moto).
type memRepo struct {
	mu     sync.Mutex
	subs   map[string]Subscription
	users  map[string]User
	gauges map[string]int64
	days   map[string]map[string]int64 // day → counters
	months map[string]map[string]int64 // yyyy-mm → counters (written by licensing)
	// marketplace is what the marketplace's metrics read answers (its period is the one asked).
	marketplace  mktmetrics.Metrics
	tokensIssued int64
	// tokensRedeemed and tokensOutstanding complete the token programme's read.
	tokensRedeemed, tokensOutstanding int64
	sla                               slametrics.Counts // what support's SLA read answers, whatever the days
	audits                            []audit.Entry
	others                            map[string]OtherSubscription // user#sub
	snapshots                         map[string]Snapshot
	jobRuns                           map[string]any
	writes                            int
	// beforeWrite, when set, runs before each subscription write (inside the lock is not held), so a
	// test can change the item underneath and make the write lose its race.
	beforeWrite func(userID string)
}

func newMemRepo() *memRepo {
	return &memRepo{subs: map[string]Subscription{}, users: map[string]User{}, gauges: map[string]int64{},
		days: map[string]map[string]int64{}, others: map[string]OtherSubscription{}, snapshots: map[string]Snapshot{},
		jobRuns: map[string]any{}}
}

func (m *memRepo) GetSubscription(_ context.Context, userID string) (Subscription, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.subs[userID]
	if !ok {
		return Subscription{}, apperr.New(apperr.NotFound, "not found")
	}
	return s, nil
}

func (m *memRepo) SubscriptionVersion(_ context.Context, userID string) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.subs[userID].Version, nil
}

func (m *memRepo) WriteSubscription(_ context.Context, w subscriptionWrite) error {
	if m.beforeWrite != nil {
		m.beforeWrite(w.UserID)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.subs[w.UserID].Version != w.PrevVersion {
		return apperr.Wrap(store.ErrConditionFailed, apperr.Conflict, "the record changed or already exists")
	}
	m.writes++
	next := *w.Next
	next.UserID, next.Version = w.UserID, w.PrevVersion+1
	w.Next.Version = next.Version
	m.subs[w.UserID] = next
	for k, v := range w.Gauges {
		m.gauges[k] += v
	}
	d := dayOf(w.At)
	for k, v := range w.Day {
		if m.days[d] == nil {
			m.days[d] = map[string]int64{}
		}
		m.days[d][k] += v
	}
	if w.Audit != nil {
		m.audits = append(m.audits, *w.Audit)
	}
	return nil
}

// put stores an item as it is (test setup).
func (m *memRepo) put(s Subscription) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.subs[s.UserID] = s
}

func (m *memRepo) sub(userID string) Subscription {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.subs[userID]
}

func (m *memRepo) gaugeSnapshot() map[string]int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return nonZero(m.gauges)
}

func (m *memRepo) dayCounters(day time.Time) map[string]int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return nonZero(m.days[dayOf(day)])
}

func (m *memRepo) auditActions() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for _, a := range m.audits {
		out = append(out, a.Action)
	}
	return out
}

func nonZero(in map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for k, v := range in {
		if v != 0 {
			out[k] = v
		}
	}
	return out
}

func (m *memRepo) GetUser(_ context.Context, userID string) (User, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	u, ok := m.users[userID]
	if !ok {
		return u, apperr.New(apperr.NotFound, "not found")
	}
	return u, nil
}

func (m *memRepo) LinkStripeCustomer(_ context.Context, userID, email, customerID string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	u := m.users[userID]
	if u.StripeCustomerID != "" {
		return u.StripeCustomerID, nil
	}
	m.users[userID] = User{UserID: userID, Email: email, StripeCustomerID: customerID}
	return customerID, nil
}

func (m *memRepo) ResolveStripeUser(_ context.Context, customerID, subscriptionID string, candidates ...string) (string, error) {
	for _, c := range candidates {
		if c != "" {
			return c, nil
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for id, u := range m.users {
		if customerID != "" && u.StripeCustomerID == customerID {
			return id, nil
		}
	}
	for id, s := range m.subs {
		if subscriptionID != "" && s.StripeSubscriptionID == subscriptionID {
			return id, nil
		}
	}
	return "", nil
}

func (m *memRepo) WriteAudit(_ context.Context, e audit.Entry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.audits = append(m.audits, e)
	return nil
}

// EachDue lists like GSI2: status partition, ReviewAt (else the period end) before `before`,
// oldest first, at most maxPages pages of duePageSize (reporting whether any were left). It walks
// a copy, so f may write.
func (m *memRepo) EachDue(_ context.Context, status string, before time.Time, maxPages int, f func(Subscription) error) (bool, error) {
	m.mu.Lock()
	var due []Subscription
	sortKey := map[string]string{}
	for _, s := range m.subs {
		review := s.ReviewAt
		if review.IsZero() {
			review = s.CurrentPeriodEnd
		}
		if s.Status == status && store.SortTime(review) < store.SortTime(before) {
			due = append(due, s)
			_, sortKey[s.UserID] = store.SubscriptionStatusGSI2(status, review, s.UserID)
		}
	}
	m.mu.Unlock()
	sort.Slice(due, func(i, j int) bool { return sortKey[due[i].UserID] < sortKey[due[j].UserID] })
	bound := maxPages * duePageSize
	for i, s := range due {
		if i == bound {
			return true, nil
		}
		if err := f(s); err != nil {
			return false, err
		}
	}
	return false, nil
}

func (m *memRepo) RecordOtherSubscription(_ context.Context, userID, subID, status string, seenAt time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := userID + "#" + subID
	if o, ok := m.others[k]; ok && o.Resolution == "" {
		return nil
	}
	m.others[k] = OtherSubscription{UserID: userID, StripeSubscriptionID: subID, Status: status, SeenAt: seenAt}
	return nil
}

// EachOpenOther lists like GSI2: the open records, oldest sighting first.
func (m *memRepo) EachOpenOther(_ context.Context, _ int, f func(OtherSubscription) error) (bool, error) {
	m.mu.Lock()
	var open []OtherSubscription
	for _, o := range m.others {
		if o.Resolution == "" {
			open = append(open, o)
		}
	}
	m.mu.Unlock()
	sort.Slice(open, func(i, j int) bool {
		_, a := store.OpenOtherSubscriptionsGSI2(open[i].SeenAt, open[i].UserID, open[i].StripeSubscriptionID)
		_, b := store.OpenOtherSubscriptionsGSI2(open[j].SeenAt, open[j].UserID, open[j].StripeSubscriptionID)
		return a < b
	})
	for _, o := range open {
		if err := f(o); err != nil {
			return false, err
		}
	}
	return false, nil
}

func (m *memRepo) ResolveOtherSubscription(_ context.Context, userID, subID, resolution string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := userID + "#" + subID
	o, ok := m.others[k]
	if !ok {
		return apperr.Wrap(store.ErrConditionFailed, apperr.Conflict, "no such record")
	}
	o.Resolution = resolution
	m.others[k] = o
	return nil
}

func (m *memRepo) Gauges(context.Context) (map[string]int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.gauges), nil
}

func (m *memRepo) DaySums(_ context.Context, from, to time.Time) (map[string]int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]int64{}
	for d, cs := range m.days {
		if d >= dayOf(from) && d <= dayOf(to) {
			for k, v := range cs {
				out[k] += v
			}
		}
	}
	return out, nil
}

// addDay adds day counters as another area (payments) would.
func (m *memRepo) addDay(day time.Time, counters map[string]int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d := dayOf(day)
	if m.days[d] == nil {
		m.days[d] = map[string]int64{}
	}
	for k, v := range counters {
		m.days[d][k] += v
	}
}

func (m *memRepo) Tokens(_ context.Context, now time.Time, days int) (tokenmetrics.Metrics, error) {
	return tokenmetrics.Metrics{From: now.AddDate(0, 0, 1-days).Format("2006-01-02"), To: now.Format("2006-01-02"),
		Issued: m.tokensIssued, Redeemed: m.tokensRedeemed, Outstanding: m.tokensOutstanding}, nil
}

func (m *memRepo) Marketplace(_ context.Context, period string) (mktmetrics.Metrics, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := m.marketplace
	out.Period = period
	return out, nil
}

func (m *memRepo) SLA(context.Context, time.Time, time.Time) (slametrics.Counts, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sla, nil
}

func (m *memRepo) MonthCounters(_ context.Context, month string) (map[string]int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.months[month]), nil
}

func (m *memRepo) LatestSnapshot(context.Context) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	latest := ""
	for d := range m.snapshots {
		latest = max(latest, d)
	}
	return latest, nil
}

func (m *memRepo) PutSnapshot(_ context.Context, s Snapshot) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.snapshots[s.Day]; ok {
		return false, nil
	}
	m.snapshots[s.Day] = s
	return true, nil
}

func (m *memRepo) RecordJobRun(_ context.Context, job, period string, _ time.Time, report any) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.jobRuns[job+"/"+period]; !ok {
		m.jobRuns[job+"/"+period] = report
	}
	return nil
}

// fakeStripe is an in-memory Stripe for billing's port: subscriptions by id, every call recorded,
// and failures injected per method (and optionally per id) as stripeapi.Error would return them.
type fakeStripe struct {
	mu   sync.Mutex
	subs map[string]*stripe.Subscription
	// schedules are what GetSchedule and CreateSchedule answer by id (else a schedule with only its
	// id, "sub_sched_1" for a created one).
	schedules map[string]*stripe.SubscriptionSchedule
	fail      map[string]error // "GetSubscription" or "GetSubscription:sub_x"
	calls     []stripeCall
	seq       int
}

type stripeCall struct {
	Method, ID, Key string
	Params          any
}

func newFakeStripe() *fakeStripe {
	return &fakeStripe{subs: map[string]*stripe.Subscription{}, schedules: map[string]*stripe.SubscriptionSchedule{},
		fail: map[string]error{}}
}

func (f *fakeStripe) record(method, id, key string, params any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, stripeCall{method, id, key, params})
	f.seq++
	if err := f.fail[method+":"+id]; err != nil {
		return err
	}
	return f.fail[method]
}

func (f *fakeStripe) called(method string) []stripeCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []stripeCall
	for _, c := range f.calls {
		if c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

func (f *fakeStripe) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

func (f *fakeStripe) setSub(s *stripe.Subscription) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.subs[s.ID] = s
}

func (f *fakeStripe) CreateCustomer(_ context.Context, p *stripe.CustomerParams, key string) (*stripe.Customer, error) {
	if err := f.record("CreateCustomer", "", key, p); err != nil {
		return nil, err
	}
	return &stripe.Customer{ID: "cus_" + strings.TrimPrefix(key, "customer-")}, nil
}

func (f *fakeStripe) CreateCheckoutSession(_ context.Context, p *stripe.CheckoutSessionParams, key string) (*stripe.CheckoutSession, error) {
	if err := f.record("CreateCheckoutSession", "", key, p); err != nil {
		return nil, err
	}
	id := fmt.Sprintf("cs_test_%d", f.seq)
	return &stripe.CheckoutSession{ID: id, URL: "https://checkout.stripe.com/c/pay/" + id}, nil
}

func (f *fakeStripe) CreatePortalSession(_ context.Context, p *stripe.BillingPortalSessionParams, key string) (*stripe.BillingPortalSession, error) {
	if err := f.record("CreatePortalSession", "", key, p); err != nil {
		return nil, err
	}
	return &stripe.BillingPortalSession{URL: "https://billing.stripe.com/p/session/test"}, nil
}

func (f *fakeStripe) GetSubscription(_ context.Context, id string) (*stripe.Subscription, error) {
	if err := f.record("GetSubscription", id, "", nil); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.subs[id]
	if !ok {
		return nil, apperr.New(apperr.Unprocessable, "reading the subscription was refused by the payment provider (resource_missing)")
	}
	return s, nil
}

func (f *fakeStripe) UpdateSubscription(_ context.Context, id string, p *stripe.SubscriptionParams, key string) (*stripe.Subscription, error) {
	if err := f.record("UpdateSubscription", id, key, p); err != nil {
		return nil, err
	}
	return &stripe.Subscription{ID: id}, nil
}

func (f *fakeStripe) GetSchedule(_ context.Context, id string) (*stripe.SubscriptionSchedule, error) {
	if err := f.record("GetSchedule", id, "", nil); err != nil {
		return nil, err
	}
	return f.schedule(id), nil
}

func (f *fakeStripe) schedule(id string) *stripe.SubscriptionSchedule {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s, ok := f.schedules[id]; ok {
		return s
	}
	return &stripe.SubscriptionSchedule{ID: id}
}

func (f *fakeStripe) CreateSchedule(_ context.Context, p *stripe.SubscriptionScheduleParams, key string) (*stripe.SubscriptionSchedule, error) {
	if err := f.record("CreateSchedule", "", key, p); err != nil {
		return nil, err
	}
	return f.schedule("sub_sched_1"), nil
}

func (f *fakeStripe) UpdateSchedule(_ context.Context, id string, p *stripe.SubscriptionScheduleParams, key string) (*stripe.SubscriptionSchedule, error) {
	if err := f.record("UpdateSchedule", id, key, p); err != nil {
		return nil, err
	}
	return &stripe.SubscriptionSchedule{ID: id}, nil
}

func (f *fakeStripe) ReleaseSchedule(_ context.Context, id string, key string) error {
	return f.record("ReleaseSchedule", id, key, nil)
}
