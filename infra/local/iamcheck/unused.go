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
// template of its policy, except the SSM parameters and their KMS key. Locally every secret comes
// from the environment (CURSOR_SECRET, STRIPE_SECRET_KEY, …) and platform.Secrets reads SSM with a
// hand-signed request, not an SDK client, so no SSM use is ever recorded; which functions read the
// cursor secret is decided from the code instead (docs/decisions/0076).
func GrantKeys(f m.Function) []string {
	var out []string
	for _, s := range m.Policy(f) {
		for _, a := range s.Actions {
			if a == m.KMSDecrypt || a == m.SSMGetParameter {
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
	granted := map[string]bool{}
	for _, f := range fns {
		for _, k := range GrantKeys(f) {
			granted[k] = true
			if !used[k] {
				if _, ok := allow[k]; !ok {
					unused = append(unused, k)
				}
			}
		}
	}
	for k := range used {
		if !granted[k] && !strings.Contains(k, m.SSMGetParameter) {
			ungranted = append(ungranted, k)
		}
	}
	sort.Strings(unused)
	sort.Strings(ungranted)
	return unused, ungranted
}
