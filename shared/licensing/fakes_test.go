package licensing

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/store"
	"github.com/liberation/monetization/shared/store/storetest"
)

// memRepo is every licensing port in memory, with DynamoDB's semantics where the rules depend on
// them: each change checks all its conditions first and then applies all of it or nothing (a
// transaction), versions and seat counts are conditions, a marker counts once, and items are
// round-tripped through attributevalue (so nothing the caller keeps aliases what is stored).
type memRepo struct {
	mu        sync.Mutex
	licenses  map[string]License
	admins    map[string]OrgAdmin
	brandings map[string]BrandingRecord
	seats     map[string]Seat
	members   map[string]Membership
	invites   map[store.Key]Invite
	directory map[string]UserByEmail
	usage     map[string]Usage
	trueUps   map[string]TrueUp
	markers   map[store.Key]bool
	keys      map[string]SigningKeyRecord
	gauges    map[string]int64
	months    map[string]map[string]int64
	audits    []audit.Entry

	// beforeWrite, when set, runs before each conditional change (a concurrent writer's turn).
	beforeWrite func()
}

var _ repository = (*memRepo)(nil)

func newMemRepo() *memRepo {
	return &memRepo{licenses: map[string]License{}, admins: map[string]OrgAdmin{}, brandings: map[string]BrandingRecord{},
		seats: map[string]Seat{}, members: map[string]Membership{}, invites: map[store.Key]Invite{},
		directory: map[string]UserByEmail{}, usage: map[string]Usage{}, trueUps: map[string]TrueUp{},
		markers: map[store.Key]bool{}, keys: map[string]SigningKeyRecord{}, gauges: map[string]int64{},
		months: map[string]map[string]int64{}}
}

func clone[T any](v T) T { return storetest.Copy(v) }

func k2(a, b string) string { return a + "|" + b }

func notFound() error { return apperr.New(apperr.NotFound, "not found") }

func (m *memRepo) turn() {
	if f := m.beforeWrite; f != nil {
		m.beforeWrite = nil
		f()
	}
}

// ----- reads -----

func (m *memRepo) License(_ context.Context, id string) (License, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	l, ok := m.licenses[id]
	if !ok {
		return License{}, apperr.New(apperr.NotFound, "license not found")
	}
	return clone(l), nil
}

func (m *memRepo) Membership(_ context.Context, userID string) (Membership, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	mem, ok := m.members[userID]
	return clone(mem), ok, nil
}

func (m *memRepo) OrgAdmin(_ context.Context, licenseID, userID string) (OrgAdmin, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.admins[k2(licenseID, userID)]
	return clone(a), ok, nil
}

func (m *memRepo) Branding(_ context.Context, licenseID string) (BrandingRecord, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.brandings[licenseID]
	return clone(b), ok, nil
}

func (m *memRepo) Seat(_ context.Context, licenseID, userID string) (Seat, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.seats[k2(licenseID, userID)]
	if !ok {
		return Seat{}, notFound()
	}
	return clone(s), nil
}

func (m *memRepo) Invite(_ context.Context, hash string) (Invite, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	inv, ok := m.invites[store.LicenseInviteKey(hash)]
	if !ok {
		return Invite{}, notFound()
	}
	return clone(inv), nil
}

func (m *memRepo) UserByEmail(_ context.Context, email string) (UserByEmail, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	u, ok := m.directory[email]
	if !ok {
		return UserByEmail{}, notFound()
	}
	return clone(u), nil
}

func (m *memRepo) AddressEntry(ctx context.Context, email string) (UserByEmail, error) {
	return m.UserByEmail(ctx, email)
}

func (m *memRepo) Usage(_ context.Context, licenseID, month string) (Usage, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	u, ok := m.usage[k2(licenseID, month)]
	return clone(u), ok, nil
}

func (m *memRepo) TrueUp(_ context.Context, licenseID, month string) (TrueUp, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.trueUps[k2(licenseID, month)]
	return clone(t), ok, nil
}

func (m *memRepo) SigningKey(_ context.Context, kid string) (SigningKeyRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k, ok := m.keys[kid]
	if !ok {
		return SigningKeyRecord{}, notFound()
	}
	return clone(k), nil
}

func (m *memRepo) SigningKeys(context.Context) ([]SigningKeyRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []SigningKeyRecord
	for _, k := range m.keys {
		out = append(out, clone(k))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].KeyID < out[j].KeyID })
	return out, nil
}

func (m *memRepo) RegisterSigningKey(_ context.Context, rec SigningKeyRecord) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.keys[rec.KeyID]; !ok {
		m.keys[rec.KeyID] = clone(rec)
	}
	return nil
}

// page is one page of all; its cursor is bound to the list (scope), as the store's signed cursors
// are: a cursor of another list is a 400.
func page[T any](scope string, all []T, limit int32, cursor string) (store.Page[T], error) {
	from := 0
	if cursor != "" {
		at, ok := strings.CutPrefix(cursor, scope+"@")
		n, err := strconv.Atoi(at)
		if !ok || err != nil || n < 0 {
			return store.Page[T]{}, apperr.New(apperr.Invalid, "cursor is invalid")
		}
		from = min(n, len(all))
	}
	to := min(from+int(limit), len(all))
	p := store.Page[T]{Items: all[from:to]}
	if to < len(all) {
		p.NextCursor = scope + "@" + strconv.Itoa(to)
	}
	return p, nil
}

func (m *memRepo) sortedLicenses() []License {
	var all []License
	for _, l := range m.licenses {
		all = append(all, clone(l))
	}
	sort.Slice(all, func(i, j int) bool {
		if !all[i].CreatedAt.Equal(all[j].CreatedAt) {
			return all[i].CreatedAt.Before(all[j].CreatedAt)
		}
		return all[i].ID < all[j].ID
	})
	return all
}

func (m *memRepo) LicensesPage(_ context.Context, limit int32, cursor string) (store.Page[License], error) {
	m.mu.Lock()
	all := m.sortedLicenses()
	m.mu.Unlock()
	for i, j := 0, len(all)-1; i < j; i, j = i+1, j-1 {
		all[i], all[j] = all[j], all[i] // newest first
	}
	return page("licenses", all, limit, cursor)
}

func (m *memRepo) EachLicense(_ context.Context, f func(License) error) error {
	m.mu.Lock()
	all := m.sortedLicenses()
	m.mu.Unlock()
	for _, l := range all {
		if err := f(l); err != nil {
			return err
		}
	}
	return nil
}

func (m *memRepo) SeatsPage(_ context.Context, licenseID string, limit int32, cursor string) (store.Page[Seat], error) {
	m.mu.Lock()
	var all []Seat
	for _, s := range m.seats {
		if s.LicenseID == licenseID {
			all = append(all, clone(s))
		}
	}
	m.mu.Unlock()
	sort.Slice(all, func(i, j int) bool { return all[i].UserID < all[j].UserID })
	return page("seats#"+licenseID, all, limit, cursor)
}

// ----- changes: every condition is checked before anything is applied -----

func (m *memRepo) addGauges(d map[string]int64) {
	for k, v := range d {
		m.gauges[k] += v
	}
}

func addUsage(u *Usage, deltas map[string]int64) {
	for n, d := range deltas {
		p := map[string]*int64{"joins": &u.Joins, "overageJoins": &u.OverageJoins, "removals": &u.Removals,
			"activeLearners": &u.ActiveLearners, "enrolments": &u.Enrolments, "ticketsLow": &u.TicketsLow,
			"ticketsNormal": &u.TicketsNormal, "ticketsHigh": &u.TicketsHigh, "ticketsUrgent": &u.TicketsUrgent}[n]
		if p == nil {
			panic("unknown usage counter " + n)
		}
		*p += d
	}
}

func (m *memRepo) addUsage(licenseID string, at time.Time, deltas map[string]int64) {
	if len(deltas) == 0 {
		return
	}
	k := k2(licenseID, month(at))
	u := m.usage[k]
	addUsage(&u, deltas)
	m.usage[k] = u
}

func (m *memRepo) keyLive(kid string) bool {
	k, ok := m.keys[kid]
	return ok && !k.Retired
}

func (m *memRepo) WriteLicense(_ context.Context, w licenseWrite) error {
	m.turn()
	m.mu.Lock()
	defer m.mu.Unlock()
	if w.SignedWith != "" && !m.keyLive(w.SignedWith) {
		return errRetiredKey
	}
	var failed []string
	if w.Create != nil {
		if _, ok := m.licenses[w.Create.ID]; ok {
			failed = append(failed, partLicense)
		}
	}
	if w.Prev != nil {
		cur, ok := m.licenses[w.Prev.ID]
		if !ok || cur.Version != w.Prev.Version || cur.SeatsUsed != w.Prev.SeatsUsed {
			failed = append(failed, partLicense)
		}
	}
	if len(failed) > 0 {
		return conflict(failed...)
	}
	if w.Create != nil {
		l := clone(*w.Create)
		l.setKeys()
		m.licenses[l.ID] = l
	}
	if w.Admin != nil {
		m.admins[k2(w.Admin.LicenseID, w.Admin.UserID)] = clone(*w.Admin)
	}
	if w.Prev != nil && w.Next != nil {
		// Everything but the seat count and the creation attributes, as termsUpdate writes.
		cur := m.licenses[w.Prev.ID]
		next := clone(*w.Next)
		next.SeatsUsed, next.CreatedAt, next.CreatedBy = cur.SeatsUsed, cur.CreatedAt, cur.CreatedBy
		next.PK, next.SK, next.GSI1PK, next.GSI1SK, next.Type = cur.PK, cur.SK, cur.GSI1PK, cur.GSI1SK, cur.Type
		m.licenses[next.ID] = next
	}
	m.audits = append(m.audits, w.Audit...)
	m.addGauges(w.Gauges)
	return nil
}

func (m *memRepo) CreateInvite(_ context.Context, inv Invite, a audit.Entry, _ time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := store.Key{PK: inv.PK, SK: inv.SK}
	if _, ok := m.invites[k]; ok {
		return conflict(partInvite)
	}
	m.invites[k] = clone(inv)
	m.audits = append(m.audits, a)
	return nil
}

func (m *memRepo) TakeSeat(_ context.Context, t seatTake) error {
	m.turn()
	m.mu.Lock()
	defer m.mu.Unlock()
	var failed []string
	cur, ok := m.licenses[t.License.ID]
	switch {
	case !ok || cur.Version != t.License.Version:
		failed = append(failed, partLicense)
	case !t.Overage && !(cur.SeatsUsed < cur.Seats):
		failed = append(failed, partLicense)
	case t.Overage && !(cur.SeatsUsed >= cur.Seats && cur.OveragePolicy == OverageAllow):
		failed = append(failed, partLicense)
	}
	_, seatTaken := m.seats[k2(t.License.ID, t.Seat.UserID)]
	_, member := m.members[t.Membership.UserID]
	if seatTaken || member {
		failed = append(failed, partSeat)
	}
	var ik store.Key
	if t.Invite != nil {
		ik = store.Key{PK: t.Invite.PK, SK: t.Invite.SK}
		inv, ok := m.invites[ik]
		if !ok || inv.Uses >= inv.MaxUses || inv.ValidUnix <= t.At.Unix() || inv.LicenseID != t.License.ID {
			failed = append(failed, partInvite)
		}
	}
	if len(failed) > 0 {
		return conflict(failed...)
	}
	cur.SeatsUsed++
	m.licenses[cur.ID] = cur
	m.seats[k2(t.License.ID, t.Seat.UserID)] = clone(t.Seat)
	m.members[t.Membership.UserID] = clone(t.Membership)
	if t.Invite != nil {
		inv := m.invites[ik]
		inv.Uses++
		m.invites[ik] = inv
	}
	m.addUsage(t.License.ID, t.At, t.Usage)
	m.addGauges(t.Gauges)
	m.audits = append(m.audits, t.Audit)
	return nil
}

func (m *memRepo) FreeSeat(_ context.Context, f seatFree) error {
	m.turn()
	m.mu.Lock()
	defer m.mu.Unlock()
	var failed []string
	cur, ok := m.licenses[f.License.ID]
	if !ok || cur.Version != f.License.Version || cur.SeatsUsed <= 0 {
		failed = append(failed, partLicense)
	}
	s, ok := m.seats[k2(f.License.ID, f.Seat.UserID)]
	mem, mok := m.members[f.Seat.UserID]
	if !ok || s.SeatID != f.Seat.SeatID || !mok || mem.LicenseID != f.License.ID || mem.SeatID != f.Seat.SeatID {
		failed = append(failed, partSeat)
	}
	if len(failed) > 0 {
		return conflict(failed...)
	}
	cur.SeatsUsed--
	m.licenses[cur.ID] = cur
	delete(m.seats, k2(f.License.ID, f.Seat.UserID))
	delete(m.members, f.Seat.UserID)
	m.addUsage(f.License.ID, f.At, f.Usage)
	m.addGauges(f.Gauges)
	m.audits = append(m.audits, f.Audit)
	return nil
}

func (m *memRepo) PutBranding(_ context.Context, rec BrandingRecord, a audit.Entry, _ time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.brandings[rec.LicenseID] = clone(rec)
	m.audits = append(m.audits, a)
	return nil
}

func (m *memRepo) CountOnce(_ context.Context, marker store.Key, licenseID string, at time.Time, deltas map[string]int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.markers[marker] {
		return nil
	}
	m.markers[marker] = true
	m.addUsage(licenseID, at, deltas)
	return nil
}

func (m *memRepo) SaveAddress(_ context.Context, e UserByEmail) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if cur, ok := m.directory[e.Email]; ok && cur.UserID != e.UserID {
		return conflict(partAddress)
	}
	m.directory[e.Email] = clone(e)
	return nil
}

func (m *memRepo) MoveAddress(_ context.Context, e UserByEmail, fromUserID string, a audit.Entry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if cur, ok := m.directory[e.Email]; !ok || cur.UserID != fromUserID {
		return conflict(partAddress)
	}
	m.directory[e.Email] = clone(e)
	m.audits = append(m.audits, a)
	return nil
}

func (m *memRepo) SampleDay(_ context.Context, licenseID string, at time.Time, overage int64) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := k2(licenseID, month(at))
	u := m.usage[k]
	if u.LastSampledDay != "" && u.LastSampledDay >= day(at) {
		return false, nil
	}
	u.LastSampledDay = day(at)
	u.OverageSeatDays += overage
	m.usage[k] = u
	return true, nil
}

func (m *memRepo) RaisePeak(_ context.Context, licenseID string, used int64, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := k2(licenseID, month(at))
	u := m.usage[k]
	if used > u.PeakSeats {
		u.PeakSeats = used
		m.usage[k] = u
	}
	return nil
}

func (m *memRepo) CloseMonth(_ context.Context, c monthClose) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := k2(c.License.ID, c.Line.Month)
	if _, ok := m.trueUps[k]; ok {
		return conflict(partTrueUp)
	}
	m.trueUps[k] = clone(c.Line)
	u := m.usage[k]
	u.Closed, u.SeatsAtClose, u.UsedAtClose = true, c.License.Seats, c.License.SeatsUsed
	m.usage[k] = u
	if m.months[c.Line.Month] == nil {
		m.months[c.Line.Month] = map[string]int64{}
	}
	for n, d := range c.Metrics {
		m.months[c.Line.Month][n] += d
	}
	return nil
}

// ----- e-mail -----
