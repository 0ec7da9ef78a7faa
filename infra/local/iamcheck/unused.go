package iamcheck

import (
	"sort"
	"strings"

	m "github.com/liberation/monetization/shared/manifest"
)

// GrantKey names one grant of a function: "<function> <action> <resource template>", the form of
// manifest.UnexercisedGrants' entries.
func GrantKey(fn, action, template string) string { return fn + " " + action + " " + template }

// GrantKeys lists every grant of f the local suite can observe: each action on each resource
// template of its policy, except kms:Decrypt, which SSM calls on the function's behalf (its
// condition, kms:ViaService, allows nothing else). Secret reads are observed through
// platform.Secrets.Check (SecretCheck), mail through the SES bridge the local stack sends through.
func GrantKeys(f m.Function) []string {
	var out []string
	for _, s := range m.Policy(f) {
		for _, a := range s.Actions {
			if a == m.KMSDecrypt {
				continue
			}
			for _, r := range s.Resources {
				out = append(out, GrantKey(f.Name, a, r))
			}
		}
	}
	return out
}

// Unused compares the functions' grants with the recorded uses: every grant no use exercised and
// not on the allow-list (manifest.UnexercisedGrants), sorted. A use of a grant the function does not
// have cannot be recorded (the check denies it first); such a use — a stale log, a renamed
// function — is returned in ungranted.
func Unused(fns []m.Function, uses []Use, allow map[string]string) (unused, ungranted []string) {
	used := map[string]bool{}
	for _, u := range uses {
		used[GrantKey(u.Function, u.Action, u.Grant)] = true
	}
	allowed := func(k string) bool {
		if _, ok := allow[k]; ok {
			return true
		}
		// "* <action> <resource>": a grant every function holding it keeps for the same reason.
		_, after, _ := strings.Cut(k, " ")
		_, ok := allow["* "+after]
		return ok
	}
	granted := map[string]bool{}
	for _, f := range fns {
		for _, k := range GrantKeys(f) {
			granted[k] = true
			if !used[k] && !allowed(k) {
				unused = append(unused, k)
			}
		}
	}
	for k := range used {
		if !granted[k] {
			ungranted = append(ungranted, k)
		}
	}
	sort.Strings(unused)
	sort.Strings(ungranted)
	return unused, ungranted
}
