package rewards

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/books/journal"
	"github.com/liberation/monetization/shared/books/journal/journaltest"
	"github.com/liberation/monetization/shared/rewards/leaderboard"
	"github.com/liberation/monetization/shared/rewards/tokenmetrics"
	"github.com/liberation/monetization/shared/store"
)

// memRepo is every port in memory, with the repository's semantics where the rules depend on
// them: the account over its version, guards created once or over their version, caps over the
// value read, redemptions over their version, all or nothing (a failed condition writes nothing),
// and the indexes the reads use (release due, board shards, redemptions by status).
type memRepo struct {
	mu       sync.Mutex
	accounts map[string]Account
	entries  map[string][]Entry
	guards   map[string]earnItem
	caps     map[string]int64
	scores   map[string]scoreItem        // user|board
	hist     map[string]map[string]int64 // board → bucket attribute → players
	metrics  map[string]map[string]int64 // day or "current" → counter
	reds     map[string]Redemption       // id
	audits   []audit.Entry
	follows  map[string]map[string]time.Time // me → followed → since
	classes  map[string]classItem
	codes    map[string]string
	members  map[string]map[string]memberItem
	// journal is the entries the writes posted: what journal.Items would have written in the same
	// transaction, checked by transactPosting's rule.
	journal journaltest.Memory
}

var _ Repo = (*memRepo)(nil)

func newMemRepo() *memRepo {
	return &memRepo{accounts: map[string]Account{}, entries: map[string][]Entry{}, guards: map[string]earnItem{},
		caps: map[string]int64{}, scores: map[string]scoreItem{}, hist: map[string]map[string]int64{},
		metrics: map[string]map[string]int64{}, reds: map[string]Redemption{}, follows: map[string]map[string]time.Time{},
		classes: map[string]classItem{}, codes: map[string]string{}, members: map[string]map[string]memberItem{}}
}

func conditionFailed() error {
	return apperr.Wrap(&store.TxError{Failed: []int{0}}, apperr.Conflict, "the record changed or already exists")
}

func gk(user, rule, source string) string { return user + "|" + rule + "|" + source }

func (m *memRepo) Account(_ context.Context, userID string) (Account, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if a, ok := m.accounts[userID]; ok {
		return a, nil
	}
	return Account{UserID: userID}, nil
}

func (m *memRepo) guardOK(g GuardWrite) bool {
	cur, exists := m.guards[gk(g.Item.UserID, g.Item.Rule, g.Item.SourceID)]
	switch {
	case !g.Read.Exists:
		return !exists
	case g.Read.Version == 0:
		return exists && cur.Version == 0
	}
	return exists && cur.Version == g.Read.Version
}

func (m *memRepo) putGuard(g GuardWrite) {
	it := g.Item
	it.Version = g.Read.Version + 1
	m.guards[gk(it.UserID, it.Rule, it.SourceID)] = it
}

func (m *memRepo) redOK(w RedemptionWrite) bool {
	cur, exists := m.reds[w.Redemption.ID]
	if w.Read == 0 {
		return !exists
	}
	return exists && cur.Version == w.Read
}

// entriesPosted lists the journal entries in posting order.
func (m *memRepo) entriesPosted() []journal.Entry {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.journal.Entries()
}

// journalEntry reads one posted entry.
func (m *memRepo) journalEntry(id string) (journal.Entry, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.journal.Get(id)
}

// postBefore posts e on its own (a backfill that ran before the change).
func (m *memRepo) postBefore(e journal.Entry) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.journal.Post(e)
}

func (m *memRepo) Commit(_ context.Context, mv Movement) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var all []journal.Entry
	for _, w := range mv.Writes {
		if w.Redemption != nil {
			all = append(all, w.Redemption.Entries...)
		}
	}
	for _, e := range all {
		if err := e.Validate(); err != nil {
			return err
		}
	}
	var failed []int
	for i, w := range mv.Writes {
		ok := true
		switch {
		case w.Guard != nil:
			ok = m.guardOK(*w.Guard)
		case w.Cap != nil:
			c := w.Cap
			v, exists := m.caps[gk(c.UserID, c.Rule, c.Day)]
			ok = exists == c.Exists && v == c.Read
		case w.Redemption != nil:
			ok = m.redOK(*w.Redemption)
		}
		if !ok {
			failed = append(failed, i)
		}
	}
	if len(failed) > 0 {
		return apperr.Wrap(&WriteFailed{Writes: failed}, apperr.Conflict, "the record changed or already exists")
	}
	if cur := m.accounts[mv.To.UserID]; cur.Version != mv.From.Version {
		return conditionFailed()
	}
	entries, err := m.journal.Check(all)
	if err != nil {
		return err
	}
	m.journal.Post(entries...)
	m.accounts[mv.To.UserID] = mv.To
	if mv.Entry.Seq != 0 {
		m.entries[mv.To.UserID] = append(m.entries[mv.To.UserID], mv.Entry)
	}
	for _, b := range boardChanges(mv.From, mv.To, mv.At) {
		m.scores[b.Score.UserID+"|"+b.Score.Board] = b.Score
		h := m.hist[b.Score.Board]
		if h == nil {
			h = map[string]int64{}
			m.hist[b.Score.Board] = h
		}
		for k, v := range b.Buckets {
			h[k] += v
		}
	}
	if day, gauges := metricDeltas(mv.Entry); day != nil {
		for name, deltas := range map[string]map[string]int64{Day(mv.Entry.At): day, "current": gauges} {
			if m.metrics[name] == nil {
				m.metrics[name] = map[string]int64{}
			}
			for k, v := range deltas {
				m.metrics[name][k] += v
			}
		}
	}
	for _, w := range mv.Writes {
		switch {
		case w.Guard != nil:
			m.putGuard(*w.Guard)
		case w.Cap != nil:
			m.caps[gk(w.Cap.UserID, w.Cap.Rule, w.Cap.Day)] = w.Cap.Earned
		case w.Redemption != nil:
			m.reds[w.Redemption.Redemption.ID] = w.Redemption.Redemption
		case w.Audit != nil:
			m.audits = append(m.audits, *w.Audit)
		}
	}
	return nil
}

func (m *memRepo) Guard(_ context.Context, userID, rule, sourceID string) (earnItem, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	it, ok := m.guards[gk(userID, rule, sourceID)]
	return it, ok, nil
}

func (m *memRepo) Cap(_ context.Context, userID, rule, day string) (int64, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.caps[gk(userID, rule, day)]
	return v, ok, nil
}

func (m *memRepo) WriteGuard(_ context.Context, w GuardWrite) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.guardOK(w) {
		return conditionFailed()
	}
	m.putGuard(w)
	return nil
}

func (m *memRepo) DueEarnings(_ context.Context, now time.Time, after *earnItem, limit int32) ([]earnItem, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var due []earnItem
	for _, g := range m.guards {
		if g.GSI2PK == store.TokenPendingPartition && g.GSI2SK <= store.SortTime(now)+"~" {
			due = append(due, g)
		}
	}
	key := func(g earnItem) string { return g.GSI2SK + "\x00" + g.PK + "\x00" + g.SK }
	slices.SortFunc(due, func(a, b earnItem) int { return compare(key(a), key(b)) })
	if after != nil {
		due = slices.DeleteFunc(due, func(g earnItem) bool { return key(g) <= key(*after) })
	}
	if len(due) > int(limit) {
		return due[:limit], true, nil
	}
	return due, false, nil
}

func compare(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// shard lists one shard of a board, best first.
func (m *memRepo) shard(board string, shard int) []scoreItem {
	pk := store.LeaderboardShardPK(GlobalScope, board, shard)
	var out []scoreItem
	for _, s := range m.scores {
		if s.GSI2PK == pk {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b scoreItem) int { return compare(b.GSI2SK, a.GSI2SK) })
	return out
}

func offset(p Position) int { i, _ := p.(int); return i }

func (m *memRepo) ShardPage(_ context.Context, board string, shard int, limit int32, start Position) ([]leaderboard.Row, Position, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	all := m.shard(board, shard)[offset(start):]
	var next Position
	if len(all) > int(limit) {
		all, next = all[:limit], offset(start)+int(limit)
	}
	var rows []leaderboard.Row
	for _, it := range all {
		rows = append(rows, leaderboard.Row{UserID: it.UserID, DisplayName: it.DisplayName, Score: it.Score,
			ReachedAt: it.ReachedAt, SortKey: it.GSI2SK})
	}
	return rows, next, nil
}

func (m *memRepo) CountAbove(_ context.Context, board string, shard int, floor int64, limit int32, start Position) (int, Position, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var above []scoreItem
	for _, s := range m.shard(board, shard) {
		if s.GSI2SK >= leaderboard.ScoreFloor(floor) {
			above = append(above, s)
		}
	}
	above = above[offset(start):]
	if len(above) > int(limit) {
		return int(limit), offset(start) + int(limit), nil
	}
	return len(above), nil, nil
}

func (m *memRepo) Histogram(_ context.Context, board string) (leaderboard.Histogram, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	h := leaderboard.Histogram{}
	for b := range leaderboard.Edges {
		if n := m.hist[board][leaderboard.BucketAttr(b)]; n != 0 {
			h[b] = n
		}
	}
	return h, nil
}

func (m *memRepo) Scores(_ context.Context, board string, userIDs []string) (map[string]scoreItem, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]scoreItem{}
	for _, u := range userIDs {
		if s, ok := m.scores[u+"|"+board]; ok {
			out[u] = s
		}
	}
	return out, nil
}

func (m *memRepo) Redemption(_ context.Context, userID, id string) (Redemption, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.reds[id]
	if !ok || r.UserID != userID {
		return Redemption{}, apperr.New(apperr.NotFound, "no such redemption")
	}
	r.claimToken = "" // a fresh read never carries the holder's proof
	return r, nil
}

func (m *memRepo) RedemptionOwner(_ context.Context, id string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.reds[id]
	if !ok {
		return "", apperr.New(apperr.NotFound, "no such redemption")
	}
	return r.UserID, nil
}

func (m *memRepo) SaveRedemption(_ context.Context, w RedemptionWrite, au *audit.Entry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range w.Entries {
		if err := e.Validate(); err != nil {
			return err
		}
	}
	if !m.redOK(w) {
		return conditionFailed()
	}
	entries, err := m.journal.Check(w.Entries)
	if err != nil {
		return err
	}
	m.journal.Post(entries...)
	m.reds[w.Redemption.ID] = w.Redemption
	if au != nil {
		m.audits = append(m.audits, *au)
	}
	return nil
}

// pageOf pages a list with the offset as the cursor.
func pageOf[T any](all []T, limit int32, cursor string) ([]T, string) {
	from, _ := strconv.Atoi(cursor)
	all = all[min(from, len(all)):]
	if len(all) > int(limit) {
		return all[:limit], strconv.Itoa(from + int(limit))
	}
	return all, ""
}

func (m *memRepo) UserRedemptions(_ context.Context, userID string, limit int32, cursor string) ([]Redemption, string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var all []Redemption
	for _, r := range m.reds {
		if r.UserID == userID {
			all = append(all, r)
		}
	}
	slices.SortFunc(all, func(a, b Redemption) int { return compare(b.ID, a.ID) })
	page, next := pageOf(all, limit, cursor)
	return page, next, nil
}

func (m *memRepo) RedemptionsByStatus(_ context.Context, status Status, limit int32, cursor string) ([]Redemption, string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var all []Redemption
	for _, r := range m.reds {
		if r.Status == status {
			all = append(all, r)
		}
	}
	slices.SortFunc(all, func(a, b Redemption) int {
		if c := a.UpdatedAt.Compare(b.UpdatedAt); c != 0 {
			return c
		}
		return compare(a.ID, b.ID)
	})
	page, next := pageOf(all, limit, cursor)
	return page, next, nil
}

func (m *memRepo) Entries(_ context.Context, userID string, limit int32, cursor string) ([]Entry, string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	all := slices.Clone(m.entries[userID])
	slices.Reverse(all)
	page, next := pageOf(all, limit, cursor)
	return page, next, nil
}

func (m *memRepo) Follow(_ context.Context, me, id string, now time.Time) (time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if since, ok := m.follows[me][id]; ok {
		return since, nil
	}
	if len(m.follows[me]) >= MaxFollowing {
		return time.Time{}, errFollowingFull
	}
	if m.follows[me] == nil {
		m.follows[me] = map[string]time.Time{}
	}
	m.follows[me][id] = now
	return now, nil
}

func (m *memRepo) Unfollow(_ context.Context, me, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.follows[me], id)
	return nil
}

func (m *memRepo) Following(_ context.Context, userID string) ([]followItem, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []followItem
	for id, since := range m.follows[userID] {
		out = append(out, followItem{Type: "follow", UserID: userID, FollowedID: id, Since: since})
	}
	slices.SortFunc(out, func(a, b followItem) int { return compare(a.FollowedID, b.FollowedID) })
	return out, nil
}

func (m *memRepo) CreateClass(_ context.Context, c classItem) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, taken := m.codes[c.JoinCode]; taken {
		return conditionFailed()
	}
	if _, exists := m.classes[c.ID]; exists {
		return conditionFailed()
	}
	m.classes[c.ID], m.codes[c.JoinCode] = c, c.ID
	return nil
}

func (m *memRepo) Class(_ context.Context, id string) (classItem, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.classes[id]
	if !ok {
		return c, apperr.New(apperr.NotFound, "no such class")
	}
	c.MemberCount = int64(len(m.members[id]))
	return c, nil
}

func (m *memRepo) Member(_ context.Context, classID, userID string) (*memberItem, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if x, ok := m.members[classID][userID]; ok {
		return &x, nil
	}
	return nil, nil
}

func (m *memRepo) Members(_ context.Context, classID string) ([]memberItem, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []memberItem
	for _, x := range m.members[classID] {
		out = append(out, x)
	}
	slices.SortFunc(out, func(a, b memberItem) int { return compare(a.UserID, b.UserID) })
	return out, nil
}

func (m *memRepo) ClassOfCode(_ context.Context, code string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	id, ok := m.codes[code]
	if !ok {
		return "", apperr.New(apperr.NotFound, "no class has this code")
	}
	return id, nil
}

func (m *memRepo) Join(_ context.Context, x memberItem) (bool, memberItem, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if cur, ok := m.members[x.ClassID][x.UserID]; ok {
		return false, cur, nil
	}
	if len(m.members[x.ClassID]) >= MaxClassMembers {
		return false, x, errClassFull
	}
	if m.members[x.ClassID] == nil {
		m.members[x.ClassID] = map[string]memberItem{}
	}
	m.members[x.ClassID][x.UserID] = x
	return true, x, nil
}

func (m *memRepo) Leave(_ context.Context, classID, userID string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.members[classID][userID]
	delete(m.members[classID], userID)
	return ok, nil
}

func (m *memRepo) DayCounters(_ context.Context, from, to string) ([]tokenmetrics.Counters, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []tokenmetrics.Counters
	for _, day := range slices.Sorted(maps.Keys(m.metrics)) {
		if day != "current" && day >= from && day <= to {
			out = append(out, countersOf(m.metrics[day]))
		}
	}
	return out, nil
}

func (m *memRepo) Gauges(context.Context) ([]tokenmetrics.Counters, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if g, ok := m.metrics["current"]; ok {
		return []tokenmetrics.Counters{countersOf(g)}, nil
	}
	return nil, nil
}

// countersOf reads counters by name as the table's item would be read (absent: zero).
func countersOf(named map[string]int64) tokenmetrics.Counters {
	item, err := attributevalue.MarshalMap(named)
	if err != nil {
		panic(err)
	}
	var c tokenmetrics.Counters
	if err := attributevalue.UnmarshalMap(item, &c); err != nil {
		panic(err)
	}
	return c
}

func (m *memRepo) DisplayNames(_ context.Context, userIDs []string) (map[string]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]string{}
	for _, u := range userIDs {
		if a, ok := m.accounts[u]; ok {
			out[u] = a.DisplayName
		}
	}
	return out, nil
}
