// Package gateway is the local stand-in for API Gateway (HTTP API, payload 2.0, JWT authorizer)
// and for the Stripe webhook's Lambda function URL. It turns each HTTP request into the event AWS
// would send, invokes the function through lambda.NewHandler (so real JSON (un)marshalling runs),
// and turns the function's response back into HTTP the way API Gateway does.
package gateway

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/liberation/monetization/infra/local/authlocal"
	"github.com/liberation/monetization/infra/local/invoke"
	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/platform"
	"github.com/liberation/monetization/shared/registry"
)

// Limits of the emulated services.
const (
	MaxAPIBody         = 10 << 20 // HTTP API payload limit
	MaxFunctionURLBody = 6 << 20  // Lambda's synchronous invoke payload limit (function URLs)
	// MaxRequestHeaderBytes bounds the request line and the headers together (HTTP API's quota
	// "total combined size of request line and header values": 10240 bytes). Above it the gateway
	// answers 431 in the error shape. Go's HTTP server has its own, larger limit (MaxHeaderBytes,
	// 1 MB by default) and answers a plain-text 431 above it, before any handler runs.
	MaxRequestHeaderBytes = 10240
)

// Config is what a Gateway serves.
type Config struct {
	// Functions to serve (normally manifest.Functions; tests pass their own).
	Functions []manifest.Function
	// Handlers by function name (see Handlers). A function without one answers 501 locally, so the
	// stack runs while functions are still being written.
	Handlers map[string]any
	// Authority verifies bearer tokens (the JWT authorizer) and provides the JWKS.
	Authority *authlocal.Authority
	// Jobs mounts POST /_local/jobs/{name}, which runs a schedule function now. Local only.
	Jobs bool
	// CORSOrigins answers preflights and adds CORS headers for these origins, as the deployed
	// API's CorsPreflight does. Empty: no CORS.
	CORSOrigins []string
	// Console serves the operator console at /console/ (and, with LocalSignIn, POST
	// /_local/console/token); nil: not served (console.go).
	Console *ConsoleConfig
	// Log receives one line per request; nil means stderr.
	Log io.Writer
}

// Gateway is an http.Handler.
type Gateway struct {
	cfg     Config
	routes  []*route
	urls    map[string]*invoke.Function // function URL mount path → function
	jobs    map[string]*invoke.Function
	missing []string
	log     io.Writer
}

// Handlers builds every function's handler from the registry, each on its own runtime derived from
// base (sharing its clients) with exactly the capabilities its manifest entry declares, as its
// generated main would. A function that fails to build is an error: the stack must not hide it.
func Handlers(fns []manifest.Function, base *platform.Runtime) (map[string]any, error) {
	out := map[string]any{}
	for _, fn := range fns {
		h, err := registry.Handler(base, fn)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", fn.Name, err)
		}
		out[fn.Name] = h
	}
	return out, nil
}

// New builds a gateway.
func New(cfg Config) (*Gateway, error) {
	g := &Gateway{cfg: cfg, urls: map[string]*invoke.Function{}, jobs: map[string]*invoke.Function{}, log: cfg.Log}
	if g.log == nil {
		g.log = os.Stderr
	}
	if cfg.Authority == nil {
		return nil, fmt.Errorf("gateway: an Authority is required")
	}
	seen := map[string]bool{}
	for _, fn := range cfg.Functions {
		h, ok := cfg.Handlers[fn.Name]
		if !ok {
			g.missing = append(g.missing, fn.Name)
			h = notImplemented(fn.Name)
		}
		f := invoke.New(fn, h)
		switch fn.Trigger.Kind {
		case manifest.HTTP:
			if cfg.Console != nil && isConsolePath(fn.Trigger.Path) {
				return nil, fmt.Errorf("gateway: route %s would be shadowed by the console served at %s/", fn.RouteKey(), consoleRoot)
			}
			if seen[fn.RouteKey()] {
				return nil, fmt.Errorf("gateway: duplicate route %s", fn.RouteKey())
			}
			seen[fn.RouteKey()] = true
			g.routes = append(g.routes, newRoute(f))
		case manifest.FunctionURL:
			g.urls[fn.Trigger.Path] = f
		case manifest.Schedule:
			g.jobs[fn.Name] = f
		}
	}
	sort.Strings(g.missing)
	return g, nil
}

// Missing lists served functions that have no handler yet.
func (g *Gateway) Missing() []string { return g.missing }

// ServeHTTP dispatches: the header limit, JWKS, local jobs, the console, function URLs, then API
// routes.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	if n := requestHeaderBytes(r); n > MaxRequestHeaderBytes {
		id := apigwRequestID()
		rec.Header().Set("apigw-requestid", id)
		writeError(rec, apperr.New(apperr.HeadersTooLarge,
			"the request line and headers are %d bytes; at most %d are accepted", n, MaxRequestHeaderBytes), id)
	} else {
		g.serve(rec, r)
	}
	fmt.Fprintf(g.log, "%s %s %s %d %dms\n", time.Now().Format("15:04:05"), r.Method, r.URL.RequestURI(), rec.status, time.Since(start).Milliseconds())
}

func (g *Gateway) serve(w http.ResponseWriter, r *http.Request) {
	path := r.URL.EscapedPath()
	switch {
	case path == "/.well-known/jwks.json" && r.Method == http.MethodGet:
		w.Header().Set("content-type", "application/json")
		_, _ = w.Write(g.cfg.Authority.Key.JWKS())
		return
	case g.cfg.Jobs && (path == jobsRoot || strings.HasPrefix(path, jobsRoot+"/")):
		g.serveJob(w, r, strings.TrimPrefix(strings.TrimPrefix(path, jobsRoot), "/"))
		return
	case g.cfg.Console != nil && isConsolePath(path):
		g.serveConsole(w, r, path)
		return
	case g.cfg.Console != nil && g.cfg.Console.LocalSignIn && path == consoleTokenPath:
		g.serveConsoleToken(w, r)
		return
	}
	if f, rest, ok := g.functionURL(path); ok {
		g.serveFunctionURL(w, r, f, rest)
		return
	}
	if g.preflight(w, r) {
		return
	}
	g.serveAPI(w, r)
}

// functionURL finds the function URL mounted at path (or a prefix of it); rest is the path the
// function sees, since in AWS the function URL is a host of its own.
func (g *Gateway) functionURL(path string) (*invoke.Function, string, bool) {
	for mount, f := range g.urls {
		if path == mount || strings.HasPrefix(path, mount+"/") {
			rest := strings.TrimPrefix(path, mount)
			if rest == "" {
				rest = "/"
			}
			return f, rest, true
		}
	}
	return nil, "", false
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) { s.status = code; s.ResponseWriter.WriteHeader(code) }

// message writes API Gateway's own error shape, {"message":"..."}: only for answers API Gateway
// itself gives in AWS (401 from the JWT authorizer, 404 for no route, 413 over the payload limit,
// 500/503 when the integration fails), so that local clients meet the same bodies as deployed ones.
func message(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("content-type", "application/json")
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]string{"message": msg})
	_, _ = w.Write(b)
}

// writeError writes the system's error shape ({"error":{"code","message","requestId"}}, the one
// httpapi writes): for every answer the local gateway gives on its own behalf, which has no
// API Gateway counterpart (431, the /_local endpoints, 501 for a function not written yet).
func writeError(w http.ResponseWriter, err *apperr.Error, requestID string) {
	w.Header().Set("content-type", "application/json")
	w.Header().Set("cache-control", "no-store")
	w.WriteHeader(apperr.Status(err.Code))
	b, _ := json.Marshal(httpapi.ErrorBody{Error: httpapi.ErrorDetail{Code: err.Code, Message: err.Message, RequestID: requestID}})
	_, _ = w.Write(b)
}

// requestHeaderBytes is the size API Gateway limits: the request line and every header line.
func requestHeaderBytes(r *http.Request) int {
	n := len(r.Method) + 1 + len(r.RequestURI) + 1 + len(r.Proto) + 2
	if r.Host != "" && r.Header.Get("Host") == "" {
		n += len("Host: ") + len(r.Host) + 2
	}
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + 2 + len(v) + 2
		}
	}
	return n
}
