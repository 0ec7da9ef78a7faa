package gateway

import (
	"net/http"
	"slices"
)

// CORS settings matching the deployed API's CorsPreflight (infra/cdk/api.go): explicit origins,
// no credentials, since tokens travel in the Authorization header.
const (
	corsMethods = "GET,POST,PUT,PATCH,DELETE"
	corsHeaders = "authorization,content-type,idempotency-key"
	corsMaxAge  = "3600"
)

func (g *Gateway) allowedOrigin(r *http.Request) string {
	o := r.Header.Get("Origin")
	if o != "" && slices.Contains(g.cfg.CORSOrigins, o) {
		return o
	}
	return ""
}

// preflight answers an OPTIONS preflight as API Gateway does when CORS is configured: before any
// route or authorizer runs.
func (g *Gateway) preflight(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodOptions || r.Header.Get("Access-Control-Request-Method") == "" || len(g.cfg.CORSOrigins) == 0 {
		return false
	}
	if o := g.allowedOrigin(r); o != "" {
		h := w.Header()
		h.Set("access-control-allow-origin", o)
		h.Set("access-control-allow-methods", corsMethods)
		h.Set("access-control-allow-headers", corsHeaders)
		h.Set("access-control-max-age", corsMaxAge)
		h.Set("vary", "origin")
	}
	w.WriteHeader(http.StatusNoContent)
	return true
}

// cors adds the allow-origin header to an actual response from an allowed origin.
func (g *Gateway) cors(w http.ResponseWriter, r *http.Request) {
	if o := g.allowedOrigin(r); o != "" {
		w.Header().Set("access-control-allow-origin", o)
		w.Header().Set("vary", "origin")
	}
}
