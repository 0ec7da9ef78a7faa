package gateway

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/liberation/monetization/infra/local/authlocal"
	"github.com/liberation/monetization/infra/local/invoke"
	"github.com/liberation/monetization/shared/apperr"
)

// API identity in the emulated events.
const (
	apiID     = "local"
	stage     = "$default"
	timeFmt   = "02/Jan/2006:15:04:05 -0700" // requestContext.time, as API Gateway writes it
	integTime = 30 * time.Second             // HTTP API's maximum integration timeout
)

func (g *Gateway) serveAPI(w http.ResponseWriter, r *http.Request) {
	reqID := apigwRequestID()
	w.Header().Set("apigw-requestid", reqID)
	g.cors(w, r)
	rt, params := find(g.routes, r.Method, r.URL.EscapedPath())
	if rt == nil {
		message(w, http.StatusNotFound, "Not Found")
		return
	}
	body, ok := readBody(w, r, MaxAPIBody, reqID)
	if !ok {
		return
	}
	ev := apiEvent(r, body, reqID, rt, params)
	if rt.fn.NeedsJWT() {
		// The authorizer runs before the integration: a refused token never reaches the function.
		v, err := g.cfg.Authority.Verify(ev.Headers["authorization"])
		if err != nil {
			w.Header().Set("www-authenticate", `Bearer scope="" error="invalid_token" error_description="`+authlocal.Describe(err)+`"`)
			message(w, http.StatusUnauthorized, "Unauthorized")
			return
		}
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: v.Claims, Scopes: v.Scopes},
		}
	}
	payload, err := json.Marshal(ev)
	if err != nil {
		message(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), integTime)
	defer cancel()
	out, err := rt.fn.Invoke(ctx, payload)
	if err != nil {
		g.functionError(w, rt.fn, err)
		return
	}
	writeResponse(w, out)
}

// functionError answers as API Gateway does when the integration fails: 503 when the 30 s
// integration timeout passes, 500 for a function error or a Lambda timeout.
func (g *Gateway) functionError(w http.ResponseWriter, f *invoke.Function, err error) {
	fmt.Fprintf(g.log, "function %s failed: %v\n", f.Name, err)
	if errors.Is(err, context.DeadlineExceeded) {
		message(w, http.StatusServiceUnavailable, "Service Unavailable")
		return
	}
	message(w, http.StatusInternalServerError, "Internal Server Error")
}

// readBody reads at most max bytes; more is 413 as API Gateway answers. A body that cannot be
// read (the client went away, a broken chunked encoding) is a local 400 in the error shape.
func readBody(w http.ResponseWriter, r *http.Request, max int64, reqID string) ([]byte, bool) {
	if r.ContentLength > max {
		message(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large")
		return nil, false
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	if err != nil {
		writeError(w, apperr.New(apperr.Invalid, "the request body could not be read"), reqID)
		return nil, false
	}
	if int64(len(b)) > max {
		message(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large")
		return nil, false
	}
	return b, true
}

// apiEvent is the payload 2.0 event for r (authorizer filled in by the caller).
func apiEvent(r *http.Request, body []byte, reqID string, rt *route, params map[string]string) events.APIGatewayV2HTTPRequest {
	c := common(r, body)
	routeKey := rt.fn.RouteKey()
	host := hostOnly(r.Host)
	return events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: routeKey, RawPath: r.URL.EscapedPath(), RawQueryString: r.URL.RawQuery,
		Cookies: c.cookies, Headers: c.headers, QueryStringParameters: c.query, PathParameters: params,
		Body: c.body, IsBase64Encoded: c.base64,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey: routeKey, AccountID: invoke.AccountID, Stage: stage, RequestID: reqID, APIID: apiID,
			DomainName: host, DomainPrefix: strings.SplitN(host, ".", 2)[0],
			Time: c.at.Format(timeFmt), TimeEpoch: c.at.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method: r.Method, Path: r.URL.EscapedPath(), Protocol: r.Proto, SourceIP: c.sourceIP,
				UserAgent: r.UserAgent(),
			},
		},
	}
}

// parts are the fields API Gateway and function URLs fill alike.
type parts struct {
	headers  map[string]string
	cookies  []string
	query    map[string]string
	body     string
	base64   bool
	sourceIP string
	at       time.Time
}

func common(r *http.Request, body []byte) parts {
	p := parts{headers: map[string]string{}, at: time.Now().UTC(), sourceIP: hostOnly(r.RemoteAddr)}
	for k, vs := range r.Header {
		k = strings.ToLower(k)
		if k == "cookie" {
			// Payload 2.0 moves cookies out of the headers into their own array.
			for _, v := range vs {
				for _, c := range strings.Split(v, ";") {
					if c = strings.TrimSpace(c); c != "" {
						p.cookies = append(p.cookies, c)
					}
				}
			}
			continue
		}
		p.headers[k] = strings.Join(vs, ",")
	}
	p.headers["host"] = r.Host
	if xff := p.headers["x-forwarded-for"]; xff != "" {
		p.headers["x-forwarded-for"] = xff + ", " + p.sourceIP
	} else {
		p.headers["x-forwarded-for"] = p.sourceIP
	}
	_, port, _ := net.SplitHostPort(r.Host)
	p.headers["x-forwarded-port"] = or(port, "80")
	p.headers["x-forwarded-proto"] = "http"
	if p.headers["x-amzn-trace-id"] == "" {
		p.headers["x-amzn-trace-id"] = fmt.Sprintf("Root=1-%08x-%s", p.at.Unix(), randHex(12))
	}
	p.query = query(r.URL.RawQuery)
	if len(body) > 0 {
		if textual(r.Header.Get("content-type")) {
			p.body = string(body)
		} else {
			p.body, p.base64 = base64.StdEncoding.EncodeToString(body), true
		}
	}
	return p
}

// query parses the raw query string, decoding keys and values and comma-joining repeated keys.
func query(raw string) map[string]string {
	if raw == "" {
		return nil
	}
	out := map[string]string{}
	for _, kv := range strings.Split(raw, "&") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		k, v = qUnescape(k), qUnescape(v)
		if prev, ok := out[k]; ok {
			out[k] = prev + "," + v
		} else {
			out[k] = v
		}
	}
	return out
}

func qUnescape(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// textual reports whether API Gateway passes a body of this content type as text; anything else
// (including no content type) arrives base64-encoded with isBase64Encoded true.
func textual(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	return strings.HasPrefix(mt, "text/") || strings.HasSuffix(mt, "json") || strings.HasSuffix(mt, "xml") ||
		mt == "application/x-www-form-urlencoded" || mt == "application/javascript"
}

// response is the union of the v2 response shapes (API and function URL are the same JSON).
type response struct {
	StatusCode      *int              `json:"statusCode"`
	Headers         map[string]string `json:"headers"`
	Body            string            `json:"body"`
	IsBase64Encoded bool              `json:"isBase64Encoded"`
	Cookies         []string          `json:"cookies"`
}

// writeResponse applies payload 2.0's rules: a JSON object with statusCode is a structured
// response; anything else is the body of a 200 application/json response.
func writeResponse(w http.ResponseWriter, out []byte) {
	var resp response
	if err := json.Unmarshal(out, &resp); err != nil || resp.StatusCode == nil {
		w.Header().Set("content-type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(out)
		return
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(resp.Body)
		if err != nil {
			message(w, http.StatusInternalServerError, "Internal Server Error")
			return
		}
		body = b
	}
	for k, v := range resp.Headers {
		w.Header().Set(k, v)
	}
	for _, c := range resp.Cookies {
		w.Header().Add("set-cookie", c)
	}
	w.WriteHeader(*resp.StatusCode)
	_, _ = w.Write(body)
}

func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return hostport
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// apigwRequestID looks like API Gateway's ("Mc7UVioPPHcEKPA="): 10 random bytes, base64.
func apigwRequestID() string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}
