// Package iamcheck enforces each function's IAM policy in the local stack: an AWS SDK middleware,
// installed on the local base runtime's aws.Config only (never in a function's own main), maps
// every call a function makes to the IAM actions and resource ARNs AWS would authorise it as,
// evaluates them against manifest.Policy(fn) — the statements CDK and template.yaml deploy — with
// the local ARNs, and fails a call outside them with the AccessDenied error AWS returns. The
// function making a call is the one whose Lambda context the invoke frame put in the call's
// context (infra/local/invoke, as the Lambda runtime does), so clients shared by all the functions
// of the local gateway's process still know their caller (docs/decisions/0076). Every allowed
// (function, action, resource) can be recorded to a JSON-lines file (Recorder) so a test can
// compare the grants with their use.
package iamcheck

import (
	"strings"

	m "github.com/liberation/monetization/shared/manifest"
)

// Grant is one resolved statement: actions on resources (ARN patterns with * and ?), allowed only
// when every condition key of Condition holds for the request's value (StringEquals: equal;
// StringLike: matches with * and ?; any other operator never holds).
type Grant struct {
	Actions   []string
	Resources []string
	// Templates are the manifest's resource templates Resources were resolved from, index by index:
	// what a recorded use names, so uses from environments with different names compare.
	Templates []string
	Condition map[string]map[string]string
}

// Resolver gives the local value of a policy placeholder (see manifest.Resolve).
type Resolver func(name string) (string, bool)

// Grants resolves f's policy with the local values. A resource whose placeholder has no local
// value (a queue whose URL is not configured) is left out: nothing can match it.
func Grants(f m.Function, value Resolver) []Grant {
	var out []Grant
	for _, s := range m.Policy(f) {
		if s.Effect != "Allow" {
			continue
		}
		g := Grant{Actions: s.Actions}
		for _, r := range s.Resources {
			if v, err := m.Resolve(r, value); err == nil {
				g.Resources = append(g.Resources, v)
				g.Templates = append(g.Templates, r)
			}
		}
		if len(s.Condition) > 0 {
			g.Condition = map[string]map[string]string{}
			for op, kv := range s.Condition {
				g.Condition[op] = map[string]string{}
				for k, v := range kv {
					rv, err := m.Resolve(v, value)
					if err != nil {
						rv = "\x00unresolved" // matches no request
					}
					g.Condition[op][k] = rv
				}
			}
		}
		out = append(out, g)
	}
	return out
}

// Allowed reports whether grants allow action on resource with the request's condition keys, as
// IAM evaluates an identity policy of Allow statements: some statement names the action (case-
// insensitively, with wildcards), a resource pattern matching the ARN, and all its conditions hold.
func Allowed(grants []Grant, action, resource string, keys map[string]string) bool {
	_, ok := allowedBy(grants, action, resource, keys)
	return ok
}

// allowedBy is Allowed, also returning the resource template of the first grant allowing the call.
func allowedBy(grants []Grant, action, resource string, keys map[string]string) (string, bool) {
	for _, g := range grants {
		if !matchAny(g.Actions, action, true) || !conditionsHold(g.Condition, keys) {
			continue
		}
		for i, r := range g.Resources {
			if Match(r, resource) {
				tmpl := r
				if i < len(g.Templates) {
					tmpl = g.Templates[i]
				}
				return tmpl, true
			}
		}
	}
	return "", false
}

func matchAny(patterns []string, v string, fold bool) bool {
	for _, p := range patterns {
		if fold {
			if Match(strings.ToLower(p), strings.ToLower(v)) {
				return true
			}
		} else if Match(p, v) {
			return true
		}
	}
	return false
}

func conditionsHold(cond map[string]map[string]string, keys map[string]string) bool {
	for op, kv := range cond {
		if op != "StringEquals" && op != "StringLike" {
			return false // an operator this checker does not evaluate never holds
		}
		for k, want := range kv {
			got, ok := keys[k]
			if !ok || (op == "StringEquals" && got != want) || (op == "StringLike" && !Match(want, got)) {
				return false
			}
		}
	}
	return true
}

// Match is IAM's wildcard match of an ARN (or action) pattern: * matches any run of characters
// (including none, and across ':' and '/'), ? any single character; everything else literally.
func Match(pattern, s string) bool {
	// Iterative glob with backtracking to the last star.
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
