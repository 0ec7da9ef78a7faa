package gateway

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"net/mail"
	"net/url"
	"os"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/liberation/monetization/shared/apperr"
)

// The operator console (web/console, docs/decisions/0093): served here at /console/ in make dev
// and the end-to-end harness, by CloudFront from S3 in AWS. Local sign-in is local only.
const (
	consoleRoot      = "/console"
	consoleTokenPath = "/_local/console/token"
	// ConsoleTokenTTL is how long a token minted by the local sign-in lives (an ID token's hour).
	ConsoleTokenTTL = time.Hour
	// consoleNotBuilt is the 503's message while Dir has no index.html.
	consoleNotBuilt = "the console is not built: run `make console`"
)

// ConsoleConfig serves the operator console's built files.
type ConsoleConfig struct {
	// Dir holds the built app (web/console/dist). Read on every request: `make console` while the
	// stack runs is picked up without a restart.
	Dir string
	// Settings is what GET /console/config.json answers (it is generated, never read from Dir);
	// the zero value means LocalConsoleSettings.
	Settings ConsoleSettings
	// LocalSignIn mounts POST /_local/console/token, which mints a token with the gateway's
	// Authority for whoever asks. Local only: nothing like it is deployed.
	LocalSignIn bool
}

// ConsoleSettings is the console's runtime configuration (GET /console/config.json), the shape the
// SPA reads in every environment; in AWS the CDK stack writes it with the Cognito fields.
type ConsoleSettings struct {
	Env  string      `json:"env"`
	API  string      `json:"api"` // "" = the console's own origin
	Auth ConsoleAuth `json:"auth"`
}

// ConsoleAuth says how the console signs in: "local" (the form posting to /_local/console/token)
// or "cognito" (the hosted UI, authorization code + PKCE; the other fields then set).
type ConsoleAuth struct {
	Mode        string `json:"mode"`
	Authority   string `json:"authority,omitempty"`
	ClientID    string `json:"clientId,omitempty"`
	Domain      string `json:"domain,omitempty"`
	RedirectURI string `json:"redirectUri,omitempty"`
}

// LocalConsoleSettings: the API on the same origin, local sign-in.
func LocalConsoleSettings() ConsoleSettings {
	return ConsoleSettings{Env: "dev", API: "", Auth: ConsoleAuth{Mode: "local"}}
}

// ConsoleCSP is the Content-Security-Policy of every console response: the app's own scripts,
// styles, images and API calls only (Vite's build has no inline script or style in index.html;
// styles the app sets through the DOM are not inline markup), never framed.
const ConsoleCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"

// Cache policies: the hashed files under assets/ never change; anything else is revalidated.
const (
	cacheImmutable = "public, max-age=31536000, immutable"
	cacheRevalid   = "no-cache"
)

func consoleSecurityHeaders(h http.Header) {
	h.Set("content-security-policy", ConsoleCSP)
	h.Set("x-content-type-options", "nosniff")
	h.Set("referrer-policy", "no-referrer")
}

// isConsolePath: /console and everything under /console/ (not /consoles).
func isConsolePath(p string) bool { return p == consoleRoot || strings.HasPrefix(p, consoleRoot+"/") }

// serveConsole answers /console and /console/...; escaped is the request's escaped path.
func (g *Gateway) serveConsole(w http.ResponseWriter, r *http.Request, escaped string) {
	c := g.cfg.Console
	consoleSecurityHeaders(w.Header())
	reqID := apigwRequestID()
	w.Header().Set("apigw-requestid", reqID)
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("allow", "GET, HEAD")
		writeError(w, apperr.New(apperr.MethodNotAllowed, "the console's files are read with GET"), reqID)
		return
	}
	if escaped == consoleRoot {
		target := consoleRoot + "/"
		if r.URL.RawQuery != "" {
			target += "?" + r.URL.RawQuery
		}
		w.Header().Set("location", target)
		w.WriteHeader(http.StatusMovedPermanently)
		return
	}
	// The file's name: unescaped once, then it must be a valid io/fs path (no "..", ".", empty or
	// absolute elements, no leading or trailing slash), so nothing outside Dir can be named,
	// however it is encoded.
	name, err := url.PathUnescape(strings.TrimPrefix(escaped, consoleRoot+"/"))
	if name == "" && err == nil {
		name = "index.html"
	}
	if err != nil || !fs.ValidPath(name) || strings.ContainsAny(name, "\\\x00") {
		writeError(w, apperr.New(apperr.NotFound, "no such file in the console"), reqID)
		return
	}
	if name == "config.json" {
		s := c.Settings
		if s == (ConsoleSettings{}) {
			s = LocalConsoleSettings()
		}
		b, _ := json.Marshal(s)
		w.Header().Set("content-type", "application/json")
		w.Header().Set("cache-control", cacheRevalid)
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			_, _ = w.Write(b)
		}
		return
	}
	root := os.DirFS(c.Dir)
	if st, err := fs.Stat(root, "index.html"); err != nil || !st.Mode().IsRegular() {
		writeError(w, apperr.New(apperr.Unavailable, consoleNotBuilt), reqID)
		return
	}
	f, err := root.Open(name)
	if err != nil {
		writeError(w, apperr.New(apperr.NotFound, "no such file in the console: %s", name), reqID)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	rs, seekable := f.(io.ReadSeeker)
	if err != nil || !st.Mode().IsRegular() || !seekable { // a directory is not listed
		writeError(w, apperr.New(apperr.NotFound, "no such file in the console: %s", name), reqID)
		return
	}
	if strings.HasPrefix(name, "assets/") {
		w.Header().Set("cache-control", cacheImmutable)
	} else {
		w.Header().Set("cache-control", cacheRevalid)
	}
	w.Header().Set("content-type", contentType(name))
	http.ServeContent(w, r, name, st.ModTime(), rs) // Last-Modified, 304s, ranges, HEAD
}

// contentTypes fixes the types of what a Vite build writes, independent of the machine's
// /etc/mime.types (which mime.TypeByExtension also reads, differently per distribution).
var contentTypes = map[string]string{
	".html":        "text/html; charset=utf-8",
	".js":          "text/javascript; charset=utf-8",
	".mjs":         "text/javascript; charset=utf-8",
	".css":         "text/css; charset=utf-8",
	".json":        "application/json",
	".map":         "application/json",
	".webmanifest": "application/manifest+json",
	".svg":         "image/svg+xml",
	".png":         "image/png",
	".jpg":         "image/jpeg",
	".jpeg":        "image/jpeg",
	".gif":         "image/gif",
	".webp":        "image/webp",
	".avif":        "image/avif",
	".ico":         "image/x-icon",
	".woff":        "font/woff",
	".woff2":       "font/woff2",
	".ttf":         "font/ttf",
	".txt":         "text/plain; charset=utf-8",
	".wasm":        "application/wasm",
}

func contentType(name string) string {
	ext := strings.ToLower(path.Ext(name))
	if t, ok := contentTypes[ext]; ok {
		return t
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return "application/octet-stream" // with nosniff: downloaded, never run as a script
}

// ConsoleTokenRequest is the body of POST /_local/console/token.
type ConsoleTokenRequest struct {
	Sub    string   `json:"sub"`
	Email  string   `json:"email,omitempty"`
	Groups []string `json:"groups,omitempty"`
}

// ConsoleToken is its answer: an ID token of the gateway's Authority, for ConsoleTokenTTL.
type ConsoleToken struct {
	Token     string `json:"token"`
	ExpiresAt string `json:"expiresAt"` // RFC 3339, UTC
}

// ConsoleGroups are the groups the local sign-in grants (the ones the API and the console know).
var ConsoleGroups = []string{"admin", "support", "instructor"}

var consoleSub = regexp.MustCompile(`^[A-Za-z0-9_.@-]{1,128}$`)

const maxConsoleTokenBody = 4096

// serveConsoleToken mints a token for the local sign-in form. Same origin only: a page elsewhere
// in the developer's browser must not be able to mint an admin token against the local stack (a
// cross-origin fetch with a JSON body is preflighted and refused anyway, but a form post is not).
func (g *Gateway) serveConsoleToken(w http.ResponseWriter, r *http.Request) {
	reqID := apigwRequestID()
	w.Header().Set("apigw-requestid", reqID)
	if r.Method != http.MethodPost {
		w.Header().Set("allow", http.MethodPost)
		writeError(w, apperr.New(apperr.MethodNotAllowed, "use POST to sign in locally"), reqID)
		return
	}
	if o := r.Header.Get("Origin"); o != "" && !sameOrigin(o, r) {
		writeError(w, apperr.New(apperr.Forbidden, "local sign-in is same-origin only: origin %q is not this gateway", o), reqID)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			writeError(w, apperr.New(apperr.UnsupportedMediaType, "the body must be application/json"), reqID)
			return
		}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxConsoleTokenBody+1))
	if err != nil {
		writeError(w, apperr.New(apperr.Invalid, "the body could not be read: %v", err), reqID)
		return
	}
	if len(body) > maxConsoleTokenBody {
		writeError(w, apperr.New(apperr.TooLarge, "the body is over %d bytes", maxConsoleTokenBody), reqID)
		return
	}
	req, msg := parseConsoleTokenRequest(body)
	if msg != "" {
		writeError(w, apperr.New(apperr.Invalid, "%s", msg), reqID)
		return
	}
	tok, err := g.cfg.Authority.Mint(req.Sub, req.Email, req.Groups, ConsoleTokenTTL)
	if err != nil {
		writeError(w, apperr.New(apperr.Internal, "mint a token: %v", err), reqID)
		return
	}
	exp, err := tokenExpiry(tok)
	if err != nil {
		writeError(w, apperr.New(apperr.Internal, "read the minted token: %v", err), reqID)
		return
	}
	writeJSON(w, http.StatusOK, ConsoleToken{Token: tok, ExpiresAt: exp.UTC().Format(time.RFC3339)})
}

// parseConsoleTokenRequest validates the sign-in body; msg says what is wrong, "" when nothing.
func parseConsoleTokenRequest(body []byte) (ConsoleTokenRequest, string) {
	var req ConsoleTokenRequest
	if len(bytes.TrimSpace(body)) == 0 {
		return req, `the body must be a JSON object: {"sub":"u1","email":"a@b.c","groups":["admin"]}`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return req, "the body must be a JSON object with sub, email and groups: " + err.Error()
	}
	if dec.More() {
		return req, "the body must be one JSON object"
	}
	if !consoleSub.MatchString(req.Sub) {
		return req, "sub is required: 1 to 128 characters of A-Z, a-z, 0-9, _, -, . and @"
	}
	if req.Email != "" {
		a, err := mail.ParseAddress(req.Email)
		if err != nil || a.Address != req.Email || len(req.Email) > 254 {
			return req, "email must be a plain e-mail address (a@b.c) or left out"
		}
	}
	seen := map[string]bool{}
	groups := []string{}
	for _, grp := range req.Groups {
		ok := false
		for _, known := range ConsoleGroups {
			ok = ok || grp == known
		}
		if !ok {
			return req, "groups may only hold " + strings.Join(ConsoleGroups, ", ") + "; not " + strconvQuote(grp)
		}
		if !seen[grp] {
			seen[grp] = true
			groups = append(groups, grp)
		}
	}
	req.Groups = groups
	return req, ""
}

func strconvQuote(s string) string { b, _ := json.Marshal(s); return string(b) }

// sameOrigin: origin is this gateway's own scheme://host (the Host the request was sent to).
func sameOrigin(origin string, r *http.Request) bool {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return origin == scheme+"://"+r.Host
}

// tokenExpiry reads the exp claim of a compact JWT the gateway just minted.
func tokenExpiry(tok string) (time.Time, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return time.Time{}, errors.New("not a compact JWT")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return time.Time{}, err
	}
	var c struct {
		Exp int64 `json:"exp"`
	}
	if err := json.Unmarshal(payload, &c); err != nil || c.Exp == 0 {
		return time.Time{}, errors.New("no exp claim")
	}
	return time.Unix(c.Exp, 0), nil
}
