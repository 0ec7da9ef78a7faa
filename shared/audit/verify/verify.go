// Package verify recomputes the audit trail's hash chains from the table (docs/decisions/0085) and
// names the first record of each chain that was removed, edited or reordered. The seal job's seals
// (the heads at the end of a day, kept in S3) are the reference a rewritten chain cannot match.
package verify

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/audit/chain"
	"github.com/liberation/monetization/shared/store"
)

// Kinds of problem.
const (
	Removed   = "removed"   // a position of the chain has no record (or the tail is shorter than its head or seal)
	Edited    = "edited"    // a record's content no longer gives its hash, or its hash is not the sealed one
	Reordered = "reordered" // a record is intact but at another position than it was written at
	Duplicate = "duplicate" // two records claim one position
	Unchained = "unchained" // a record without chain fields on a day that has chains
)

// Problem is the first break found in a chain: its kind, position (seq) and the record it names.
type Problem struct {
	Chain    string `json:"chain"`
	Position int64  `json:"position"`
	ID       string `json:"id,omitempty"`
	Kind     string `json:"kind"`
	Detail   string `json:"detail"`
}

// ChainState is a chain's end as recomputed (and, in a seal, as sealed).
type ChainState struct {
	Chain  string `json:"chain"`
	Seq    int64  `json:"seq"`
	Hash   string `json:"hash"`
	LastID string `json:"lastId,omitempty"`
}

// Seal is the object the seal job writes for a day (audit/seals/<day>.json).
type Seal struct {
	Day      string       `json:"day"`
	SealedAt time.Time    `json:"sealedAt"`
	Records  int64        `json:"records"`
	Chains   []ChainState `json:"chains"`
}

// Report is one day's verification.
type Report struct {
	Day       string `json:"day"`
	Records   int    `json:"records"`
	Unchained int    `json:"unchained"` // records from before the chains (no chain fields)
	Sealed    bool   `json:"sealed"`
	// AfterSeal counts records written after the day was sealed (a late event's record dated that
	// day): past the sealed end of their chain, or in a chain the seal does not know. Not a break:
	// the seal vouches for what it saw, the chain for what came after.
	AfterSeal int64        `json:"afterSeal"`
	Chains    []ChainState `json:"chains"`
	Problems  []Problem    `json:"problems"`
}

// OK says whether the day verified.
func (r Report) OK() bool { return len(r.Problems) == 0 }

type record struct {
	f    chain.Fields
	hash string
}

// Day verifies one day ("2006-01-02") against its heads and, when seal is not nil, its seal.
func Day(ctx context.Context, s *store.Store, day string, seal *Seal) (Report, error) {
	items, err := s.AuditDayItems(ctx, day)
	if err != nil {
		return Report{}, err
	}
	heads, err := s.AuditHeads(ctx, day)
	if err != nil {
		return Report{}, err
	}
	return Check(day, items, heads, seal)
}

// Check is Day over records and heads already read.
func Check(day string, items []map[string]types.AttributeValue, heads []store.AuditHead, seal *Seal) (Report, error) {
	rep := Report{Day: day, Records: len(items), Sealed: seal != nil, Chains: []ChainState{}, Problems: []Problem{}}
	chains := map[string][]record{}
	var unchained []string
	for _, it := range items {
		f, err := chain.FromItem(it)
		if err != nil {
			return rep, err
		}
		if f.Chain == "" {
			rep.Unchained++
			unchained = append(unchained, f.ID)
			continue
		}
		h, _ := it[chain.AttrHash].(*types.AttributeValueMemberS)
		r := record{f: f}
		if h != nil {
			r.hash = h.Value
		}
		chains[f.Chain] = append(chains[f.Chain], r)
	}
	headOf := map[string]store.AuditHead{}
	for _, h := range heads {
		headOf[h.Chain] = h
		if _, ok := chains[h.Chain]; !ok {
			chains[h.Chain] = nil // every record of a chain removed: the head still counts them
		}
	}
	sealOf := map[string]ChainState{}
	if seal != nil {
		for _, c := range seal.Chains {
			sealOf[c.Chain] = c
			if _, ok := chains[c.Chain]; !ok {
				chains[c.Chain] = nil
			}
		}
	}
	if len(chains) > 0 && len(unchained) > 0 {
		// Records written before the chains existed never share a day with chained ones: a
		// chained day's record without chain fields had them stripped.
		rep.Problems = append(rep.Problems, Problem{Kind: Unchained, ID: unchained[0],
			Detail: fmt.Sprintf("%d record(s) without chain fields on a chained day", len(unchained))})
	}
	names := make([]string, 0, len(chains))
	for c := range chains {
		names = append(names, c)
	}
	sort.Strings(names)
	for _, name := range names {
		recs := chains[name]
		sort.SliceStable(recs, func(i, j int) bool { return recs[i].f.Seq < recs[j].f.Seq })
		end, p := walk(name, recs)
		rep.Chains = append(rep.Chains, end)
		if p == nil {
			p = againstHead(end, headOf[name], recs)
		}
		if p == nil && seal != nil {
			p = againstSeal(end, sealOf, recs)
			rep.AfterSeal += end.Seq - sealOf[name].Seq
		}
		if p != nil {
			rep.Problems = append(rep.Problems, *p)
		}
	}
	return rep, nil
}

// walk recomputes a chain in seq order and returns its end, or the first break.
func walk(name string, recs []record) (ChainState, *Problem) {
	end := ChainState{Chain: name, Hash: chain.Genesis(name)}
	for i, r := range recs {
		want := end.Seq + 1
		switch {
		case r.f.Seq < want:
			return end, &Problem{Chain: name, Position: r.f.Seq, ID: r.f.ID, Kind: Duplicate,
				Detail: fmt.Sprintf("a second record at position %d", r.f.Seq)}
		case r.f.Seq > want:
			return end, &Problem{Chain: name, Position: want, ID: r.f.ID, Kind: Removed,
				Detail: fmt.Sprintf("no record at position %d (the next one, %s, is at %d)", want, r.f.ID, r.f.Seq)}
		}
		if got := chain.Hash(r.f); got != r.hash {
			if at := writtenAt(r, int64(len(recs))+1); at != 0 {
				return end, &Problem{Chain: name, Position: want, ID: r.f.ID, Kind: Reordered,
					Detail: fmt.Sprintf("record written at position %d found at %d", at, want)}
			}
			return end, &Problem{Chain: name, Position: want, ID: r.f.ID, Kind: Edited,
				Detail: "its content does not give its hash"}
		}
		if r.f.Prev != end.Hash {
			if i == 0 {
				return end, &Problem{Chain: name, Position: want, ID: r.f.ID, Kind: Edited,
					Detail: "its prev is not the chain's genesis value"}
			}
			// The record before is self-consistent but is not the one this record was chained
			// to: it was rewritten with a recomputed hash.
			return end, &Problem{Chain: name, Position: end.Seq, ID: end.LastID, Kind: Edited,
				Detail: fmt.Sprintf("its hash was recomputed: the next record (%s) was chained to another", r.f.ID)}
		}
		end = ChainState{Chain: name, Seq: r.f.Seq, Hash: r.hash, LastID: r.f.ID}
	}
	return end, nil
}

// writtenAt finds the position a record's own hash says it was written at, when that is not where
// it is (0: none — the content itself changed).
func writtenAt(r record, upTo int64) int64 {
	for j := int64(1); j <= upTo; j++ {
		if j == r.f.Seq {
			continue
		}
		f := r.f
		f.Seq = j
		if chain.Hash(f) == r.hash {
			return j
		}
	}
	return 0
}

func againstHead(end ChainState, h store.AuditHead, recs []record) *Problem {
	switch {
	case h.Chain == "":
		if end.Seq == 0 {
			return nil
		}
		return &Problem{Chain: end.Chain, Position: end.Seq, ID: end.LastID, Kind: Edited, Detail: "the chain has no head item"}
	case h.Seq > end.Seq:
		return &Problem{Chain: end.Chain, Position: end.Seq + 1, ID: h.LastID, Kind: Removed,
			Detail: fmt.Sprintf("the head counts %d records, the table holds %d", h.Seq, end.Seq)}
	case h.Seq < end.Seq:
		return &Problem{Chain: end.Chain, Position: h.Seq + 1, ID: idAt(recs, h.Seq+1), Kind: Edited,
			Detail: fmt.Sprintf("records past the head (%d)", h.Seq)}
	case h.Hash != end.Hash:
		return &Problem{Chain: end.Chain, Position: end.Seq, ID: end.LastID, Kind: Edited,
			Detail: "the last record's hash is not the head's"}
	}
	return nil
}

func againstSeal(end ChainState, sealOf map[string]ChainState, recs []record) *Problem {
	sealed := sealOf[end.Chain] // a chain begun after the seal: nothing sealed to compare
	if sealed.Seq > end.Seq {
		return &Problem{Chain: end.Chain, Position: end.Seq + 1, ID: sealed.LastID, Kind: Removed,
			Detail: fmt.Sprintf("sealed with %d records, the table holds %d", sealed.Seq, end.Seq)}
	}
	for _, r := range recs {
		if r.f.Seq == sealed.Seq && r.hash != sealed.Hash {
			return &Problem{Chain: end.Chain, Position: sealed.Seq, ID: r.f.ID, Kind: Edited,
				Detail: "the chain was rewritten: this record's hash is not the sealed one"}
		}
	}
	return nil
}

func idAt(recs []record, seq int64) string {
	for _, r := range recs {
		if r.f.Seq == seq {
			return r.f.ID
		}
	}
	return ""
}

// SealOf is the seal of a day as the heads are now.
func SealOf(day string, heads []store.AuditHead, at time.Time) Seal {
	s := Seal{Day: day, SealedAt: at.UTC(), Chains: []ChainState{}}
	for _, h := range heads {
		s.Chains = append(s.Chains, ChainState{Chain: h.Chain, Seq: h.Seq, Hash: h.Hash, LastID: h.LastID})
		s.Records += h.Seq
	}
	sort.Slice(s.Chains, func(i, j int) bool { return s.Chains[i].Chain < s.Chains[j].Chain })
	return s
}
