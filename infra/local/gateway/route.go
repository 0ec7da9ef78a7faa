package gateway

import (
	"net/url"
	"strings"

	"github.com/liberation/monetization/infra/local/invoke"
)

// route is one HTTP API route: "GET /payments/{paymentId}".
type route struct {
	fn     *invoke.Function
	method string
	segs   []string // template segments: literal, "{name}" or a final greedy "{name+}"
}

func newRoute(f *invoke.Function) *route {
	return &route{fn: f, method: f.Trigger.Method, segs: split(f.Trigger.Path)}
}

func split(p string) []string { return strings.Split(strings.TrimPrefix(p, "/"), "/") }

// match reports whether the escaped request path fits the template, and the decoded path
// parameters (API Gateway decodes them; rawPath stays as sent).
func (r *route) match(rawSegs []string) (map[string]string, bool) {
	var params map[string]string
	set := func(name, v string) {
		if params == nil {
			params = map[string]string{}
		}
		params[name] = v
	}
	for i, t := range r.segs {
		if name, ok := param(t); ok && strings.HasSuffix(name, "+") && i == len(r.segs)-1 {
			if i >= len(rawSegs) {
				return nil, false
			}
			set(strings.TrimSuffix(name, "+"), unescape(strings.Join(rawSegs[i:], "/")))
			return params, true
		}
		if i >= len(rawSegs) {
			return nil, false
		}
		if name, ok := param(t); ok {
			if rawSegs[i] == "" {
				return nil, false // a parameter matches a non-empty segment only
			}
			set(name, unescape(rawSegs[i]))
			continue
		}
		if t != rawSegs[i] {
			return nil, false
		}
	}
	if len(rawSegs) != len(r.segs) {
		return nil, false
	}
	return params, true
}

// moreSpecific orders matching routes as API Gateway does: at the first differing segment a
// literal beats a parameter, which beats a greedy parameter.
func (r *route) moreSpecific(o *route) bool {
	for i := 0; i < len(r.segs) && i < len(o.segs); i++ {
		a, b := rank(r.segs[i]), rank(o.segs[i])
		if a != b {
			return a > b
		}
	}
	return len(r.segs) > len(o.segs)
}

func rank(seg string) int {
	name, ok := param(seg)
	switch {
	case !ok:
		return 2
	case strings.HasSuffix(name, "+"):
		return 0
	}
	return 1
}

func param(seg string) (string, bool) {
	if len(seg) > 2 && seg[0] == '{' && seg[len(seg)-1] == '}' {
		return seg[1 : len(seg)-1], true
	}
	return "", false
}

func unescape(s string) string {
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}

// find returns the best route for method and escaped path. API Gateway answers 404 both for an
// unknown path and for a known path with another method, so this does not distinguish them.
func find(routes []*route, method, rawPath string) (*route, map[string]string) {
	segs := split(rawPath)
	var best *route
	var bestParams map[string]string
	for _, r := range routes {
		if r.method != method && r.method != "ANY" {
			continue
		}
		p, ok := r.match(segs)
		if ok && (best == nil || r.moreSpecific(best)) {
			best, bestParams = r, p
		}
	}
	return best, bestParams
}
