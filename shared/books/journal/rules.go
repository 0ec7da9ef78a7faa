package journal

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"sync"
)

// Rule is a posting rule: one kind of money event of one area and the accounts its entries may
// touch. Areas register their rules from their own init (no central switch); an entry names its
// rule by Kind and is refused if it touches an account the rule does not list.
type Rule struct {
	Area     string      // the area that posts it ("payments", "marketplace", …)
	Kind     string      // unique name, e.g. "mkt.sale"; entry ids start with Kind + "."
	Summary  string      // one line for people (docs, statements)
	Accounts []AccountID // the accounts its entries may touch
}

// kindPattern: lower-case words joined by dots or underscores — a kind is part of every entry id.
var kindPattern = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$`)

var (
	rulesMu sync.RWMutex
	rules   = map[string]Rule{}
)

// Register adds a posting rule. It panics on a rule that is incomplete, names an account outside
// the chart or reuses a kind: a programming error an area's init must not survive.
func Register(r Rule) {
	if err := checkRule(r); err != nil {
		panic("journal.Register: " + err.Error())
	}
	rulesMu.Lock()
	defer rulesMu.Unlock()
	if _, dup := rules[r.Kind]; dup {
		panic(fmt.Sprintf("journal.Register: kind %q registered twice", r.Kind))
	}
	r.Accounts = slices.Clone(r.Accounts)
	rules[r.Kind] = r
}

func checkRule(r Rule) error {
	switch {
	case r.Area == "":
		return fmt.Errorf("rule %q has no area", r.Kind)
	case !kindPattern.MatchString(r.Kind) || len(r.Kind) > 64:
		return fmt.Errorf("kind %q is not lower-case words joined by dots (at most 64 characters)", r.Kind)
	case r.Summary == "":
		return fmt.Errorf("rule %q has no summary", r.Kind)
	case len(r.Accounts) < 2:
		return fmt.Errorf("rule %q lists fewer than two accounts", r.Kind)
	}
	for _, a := range r.Accounts {
		if !Known(a) {
			return fmt.Errorf("rule %q names account %q, which is not in the chart", r.Kind, a)
		}
	}
	return nil
}

// RuleOf returns the rule registered for kind.
func RuleOf(kind string) (Rule, bool) {
	rulesMu.RLock()
	defer rulesMu.RUnlock()
	r, ok := rules[kind]
	if ok {
		r.Accounts = slices.Clone(r.Accounts)
	}
	return r, ok
}

// Rules lists the registered rules by kind (what this binary can post).
func Rules() []Rule {
	rulesMu.RLock()
	defer rulesMu.RUnlock()
	out := make([]Rule, 0, len(rules))
	for _, r := range rules {
		r.Accounts = slices.Clone(r.Accounts)
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Kind < out[j].Kind })
	return out
}
