package main

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"

	m "github.com/liberation/monetization/shared/manifest"
)

// consoleClient is the console's app client (by its name) and the other clients' logical ids.
func consoleClient(t *testing.T, c cfn, env string) (string, resource, []string) {
	t.Helper()
	var id string
	var others []string
	for rid, r := range c.ofType("AWS::Cognito::UserPoolClient") {
		if r.Properties["ClientName"] == "monetization-"+env+"-console" {
			id = rid
		} else {
			others = append(others, rid)
		}
	}
	if id == "" {
		t.Fatalf("%s: no user pool client named monetization-%s-console", env, env)
	}
	return id, c.Resources[id], others
}

// ofTypeOne is the single resource of a type (the console adds one of each).
func ofTypeOne(t *testing.T, c cfn, typ string) (string, resource) {
	t.Helper()
	rs := c.ofType(typ)
	if len(rs) != 1 {
		t.Fatalf("%d resources of type %s, want 1", len(rs), typ)
	}
	for id, r := range rs {
		return id, r
	}
	return "", resource{}
}

// distributionDomain is how the template names https://<distribution domain>.
const distributionDomain = `"https://",{"Fn::GetAtt":["ConsoleDistribution","DomainName"]}`

// The console bucket is private: all public access blocked, TLS only, S3-managed encryption,
// versioned, removal per environment; CloudFront reads it through origin access control only — the
// bucket policy's one Allow is s3:GetObject for cloudfront.amazonaws.com on behalf of this
// distribution (AWS:SourceArn), with no origin access identity and no public principal.
func TestConsoleBucketPrivateWithOAC(t *testing.T) {
	for _, env := range []string{"dev", "prod"} {
		c, _ := synth(t, env)
		b, ok := c.Resources["ConsoleBucket"]
		if !ok {
			t.Fatalf("%s: no ConsoleBucket", env)
		}
		checkEq(t, env+" console bucket public access", b.Properties["PublicAccessBlockConfiguration"], map[string]any{
			"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true,
		})
		checkEq(t, env+" console bucket encryption", b.Properties["BucketEncryption"], map[string]any{
			"ServerSideEncryptionConfiguration": []any{map[string]any{"ServerSideEncryptionByDefault": map[string]any{"SSEAlgorithm": "AES256"}}},
		})
		checkEq(t, env+" console bucket versioning", b.Properties["VersioningConfiguration"], map[string]any{"Status": "Enabled"})
		checkEq(t, env+" console bucket DeletionPolicy", b.DeletionPolicy, map[string]string{"dev": "Delete", "prod": "Retain"}[env])
		if _, acl := b.Properties["AccessControl"]; acl {
			t.Errorf("%s: console bucket has an ACL %v", env, b.Properties["AccessControl"])
		}
		if n := len(c.ofType("AWS::CloudFront::CloudFrontOriginAccessIdentity")); n != 0 {
			t.Errorf("%s: %d origin access identities; the console uses origin access control", env, n)
		}

		var stmts []map[string]any
		for _, p := range c.ofType("AWS::S3::BucketPolicy") {
			if jsonEq(p.Properties["Bucket"], map[string]any{"Ref": "ConsoleBucket"}) {
				for _, s := range at(p.Properties, "PolicyDocument", "Statement").([]any) {
					stmts = append(stmts, s.(map[string]any))
				}
			}
		}
		tlsOnly, oac := false, 0
		for _, s := range stmts {
			switch s["Effect"] {
			case "Deny":
				tlsOnly = tlsOnly || jsonEq(s["Condition"], map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}})
			case "Allow":
				checkEq(t, env+" allowed principal", s["Principal"], map[string]any{"Service": "cloudfront.amazonaws.com"})
				checkEq(t, env+" allowed action", s["Action"], "s3:GetObject")
				arn := jsonString(at(s, "Condition", "StringEquals", "AWS:SourceArn"))
				if !strings.Contains(arn, `:distribution/",{"Ref":"ConsoleDistribution"}`) {
					t.Errorf("%s: the CloudFront grant's SourceArn %s is not the console distribution", env, arn)
				}
				oac++
			}
		}
		if !tlsOnly || oac != 1 {
			t.Errorf("%s: console bucket policy %v: want a TLS-only deny and exactly one CloudFront allow", env, stmts)
		}

		_, ac := ofTypeOne(t, c, "AWS::CloudFront::OriginAccessControl")
		checkEq(t, env+" OAC", at(ac.Properties, "OriginAccessControlConfig", "OriginAccessControlOriginType"), "s3")
		checkEq(t, env+" OAC signing", at(ac.Properties, "OriginAccessControlConfig", "SigningBehavior"), "always")
		origins := at(c.Resources["ConsoleDistribution"].Properties, "DistributionConfig", "Origins").([]any)
		if len(origins) != 1 {
			t.Fatalf("%s: %d origins, want the console bucket", env, len(origins))
		}
		o := origins[0].(map[string]any)
		checkEq(t, env+" origin", o["DomainName"], map[string]any{"Fn::GetAtt": []any{"ConsoleBucket", "RegionalDomainName"}})
		if !strings.Contains(jsonString(o["OriginAccessControlId"]), "OriginAccessControl") ||
			at(o, "S3OriginConfig", "OriginAccessIdentity") != "" {
			t.Errorf("%s: origin %v does not read through the OAC (or names an OAI)", env, o)
		}
	}
}

// The distribution: HTTPS only (HTTP redirects), HTTP/2 and 3, price class
// 100, the console paths function on viewer requests and the security headers on every answer.
func TestConsoleDistribution(t *testing.T) {
	c, _ := synth(t, "dev")
	d := c.Resources["ConsoleDistribution"].Properties["DistributionConfig"].(map[string]any)
	b := d["DefaultCacheBehavior"].(map[string]any)
	checkEq(t, "ViewerProtocolPolicy", b["ViewerProtocolPolicy"], "redirect-to-https")
	checkEq(t, "AllowedMethods", b["AllowedMethods"], []any{"GET", "HEAD"})
	checkEq(t, "HttpVersion", d["HttpVersion"], "http2and3")
	checkEq(t, "PriceClass", d["PriceClass"], "PriceClass_100")
	if d["ViewerCertificate"] != nil { // the default certificate: CloudFront fixes its policy (decision 0094)
		t.Errorf("ViewerCertificate %v without a custom domain", d["ViewerCertificate"])
	}
	checkEq(t, "DefaultRootObject", d["DefaultRootObject"], "console/index.html")
	fnID, fn := ofTypeOne(t, c, "AWS::CloudFront::Function")
	checkEq(t, "function associations", b["FunctionAssociations"], []any{map[string]any{
		"EventType": "viewer-request", "FunctionARN": map[string]any{"Fn::GetAtt": []any{fnID, "FunctionARN"}}}})
	checkEq(t, "function code", fn.Properties["FunctionCode"], consolePathsJS)
	checkEq(t, "function runtime", at(fn.Properties, "FunctionConfig", "Runtime"), "cloudfront-js-2.0")

	hid, h := ofTypeOne(t, c, "AWS::CloudFront::ResponseHeadersPolicy")
	checkEq(t, "response headers policy", b["ResponseHeadersPolicyId"], map[string]any{"Ref": hid})
	sec := at(h.Properties, "ResponseHeadersPolicyConfig", "SecurityHeadersConfig").(map[string]any)
	checkEq(t, "HSTS", sec["StrictTransportSecurity"], map[string]any{"AccessControlMaxAgeSec": 63072000.0, "IncludeSubdomains": true, "Override": true})
	checkEq(t, "nosniff", sec["ContentTypeOptions"], map[string]any{"Override": true})
	checkEq(t, "frame options", sec["FrameOptions"], map[string]any{"FrameOption": "DENY", "Override": true})
	checkEq(t, "referrer policy", sec["ReferrerPolicy"], map[string]any{"Override": true, "ReferrerPolicy": "no-referrer"})
	if at(sec, "ContentSecurityPolicy", "Override") != true {
		t.Error("the CSP does not override an origin's")
	}
}

// The AWS CSP is the local gateway's (decision 0093) but for connect-src, which adds exactly the
// region's execute-api hosts, the user pool's OIDC host and this stack's hosted UI domain: a
// directive loosened or dropped on either side fails here.
func TestConsoleCSPMatchesLocal(t *testing.T) {
	c, _ := synth(t, "dev")
	_, h := ofTypeOne(t, c, "AWS::CloudFront::ResponseHeadersPolicy")
	join := at(h.Properties, "ResponseHeadersPolicyConfig", "SecurityHeadersConfig", "ContentSecurityPolicy", "ContentSecurityPolicy", "Fn::Join").([]any)
	var b strings.Builder // the policy with each CloudFormation reference written as {Name}
	for _, part := range join[1].([]any) {
		switch p := part.(type) {
		case string:
			b.WriteString(p)
		case map[string]any:
			if ref, ok := p["Ref"].(string); ok {
				b.WriteString("{" + ref + "}")
			} else {
				t.Fatalf("unexpected CSP part %v", p)
			}
		}
	}
	aws := directives(b.String())
	local := directives(gatewayConst(t, "ConsoleCSP"))
	if len(local) < 5 {
		t.Fatalf("local CSP %v: parsed too few directives", local)
	}
	hostedUI := regexp.MustCompile(`^https://\{UserPoolHostedUiDomain[0-9A-F]+\}\.auth\.\{AWS::Region\}\.amazoncognito\.com$`)
	for name, want := range local {
		got := aws[name]
		if name != "connect-src" {
			checkEq(t, "CSP "+name, got, want)
			continue
		}
		if len(got) != len(want)+3 || !slices.Equal(got[:len(want)], want) ||
			got[len(want)] != "https://*.execute-api.{AWS::Region}.{AWS::URLSuffix}" ||
			got[len(want)+1] != "https://cognito-idp.{AWS::Region}.{AWS::URLSuffix}" || !hostedUI.MatchString(got[len(want)+2]) {
			t.Errorf("connect-src = %v, want %v + the API, cognito-idp and the hosted UI", got, want)
		}
	}
	for name := range aws {
		if _, ok := local[name]; !ok {
			t.Errorf("CSP directive %s is in AWS only", name)
		}
	}
}

func directives(csp string) map[string][]string {
	out := map[string][]string{}
	for _, d := range strings.Split(csp, ";") {
		if f := strings.Fields(d); len(f) > 0 {
			out[f[0]] = f[1:]
		}
	}
	return out
}

// gatewayFile parses the local gateway's console.go (another module's package; infra/cdk reads
// its source rather than importing it, which would pull the gateway's dependencies in here).
func gatewayFile(t *testing.T) *ast.File {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), filepath.Join("..", "local", "gateway", "console.go"), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// gatewayConst is a string constant of the gateway's console.go (literals joined by +).
func gatewayConst(t *testing.T, name string) string {
	t.Helper()
	var out string
	var lit func(e ast.Expr)
	lit = func(e ast.Expr) {
		switch x := e.(type) {
		case *ast.BasicLit:
			s, err := strconv.Unquote(x.Value)
			if err != nil {
				t.Fatal(err)
			}
			out += s
		case *ast.BinaryExpr:
			lit(x.X)
			lit(x.Y)
		default:
			t.Fatalf("%s: not a string literal expression", name)
		}
	}
	ast.Inspect(gatewayFile(t), func(n ast.Node) bool {
		if v, ok := n.(*ast.ValueSpec); ok && len(v.Names) == 1 && v.Names[0].Name == name && len(v.Values) == 1 {
			lit(v.Values[0])
		}
		return true
	})
	if out == "" {
		t.Fatalf("no constant %s in the gateway's console.go", name)
	}
	return out
}

// gatewayJSONFields are the json names of a struct type's fields in the gateway's console.go.
func gatewayJSONFields(t *testing.T, typ string) []string {
	t.Helper()
	var out []string
	ast.Inspect(gatewayFile(t), func(n ast.Node) bool {
		ts, ok := n.(*ast.TypeSpec)
		if !ok || ts.Name.Name != typ {
			return true
		}
		for _, f := range ts.Type.(*ast.StructType).Fields.List {
			tag, _ := strconv.Unquote(f.Tag.Value)
			name, _, _ := strings.Cut(reflect.StructTag(tag).Get("json"), ",")
			out = append(out, name)
		}
		return false
	})
	slices.Sort(out)
	return out
}

// The paths function, run in Node (which jsii already needs): / and /console redirect to /console/,
// a directory serves its index.html, files pass unchanged.
func TestConsolePathsFunction(t *testing.T) {
	script := consolePathsJS + `
const cases = ['/', '/console', '/console/', '/console/assets/index-1.js', '/console/config.json', '/console/x/'];
console.log(JSON.stringify(cases.map(uri => handler({ request: { uri, querystring: {} } }))));`
	out, err := exec.Command("node", "-e", script).Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	var got []map[string]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	redirect := map[string]any{"statusCode": 301.0, "statusDescription": "Moved Permanently",
		"headers": map[string]any{"location": map[string]any{"value": "/console/"}}}
	req := func(uri string) map[string]any { return map[string]any{"uri": uri, "querystring": map[string]any{}} }
	checkEq(t, "paths", got, []any{redirect, redirect, req("/console/index.html"), req("/console/assets/index-1.js"),
		req("/console/config.json"), req("/console/x/index.html")})
}

// The app is deployed under console/ in two parts, cached as the local gateway caches them:
// assets/ immutable, the rest no-cache and then the distribution's /console/* invalidated. config.json
// is written from the deploy-time values with the gateway's keys (its ConsoleSettings), and the
// build's own config.json (a local one) is left out.
func TestConsoleDeployment(t *testing.T) {
	c, _ := synth(t, "dev")
	deployments := map[string]resource{}
	for id, r := range c.ofType("Custom::CDKBucketDeployment") {
		checkEq(t, id+" bucket", r.Properties["DestinationBucketName"], map[string]any{"Ref": "ConsoleBucket"})
		checkEq(t, id+" prune", r.Properties["Prune"], true)
		deployments[r.Properties["DestinationBucketKeyPrefix"].(string)] = r
	}
	assets, pages := deployments["console/assets/"], deployments["console/"]
	if len(deployments) != 2 || assets.Type == "" || pages.Type == "" {
		t.Fatalf("deployments by prefix %v, want console/ and console/assets/", deployments)
	}
	checkEq(t, "assets cache", at(assets.Properties, "SystemMetadata", "cache-control"), gatewayConst(t, "cacheImmutable"))
	checkEq(t, "pages cache", at(pages.Properties, "SystemMetadata", "cache-control"), gatewayConst(t, "cacheRevalid"))
	checkEq(t, "pages exclude", pages.Properties["Exclude"], []any{"assets/*"})
	checkEq(t, "invalidated", pages.Properties["DistributionId"], map[string]any{"Ref": "ConsoleDistribution"})
	checkEq(t, "invalidation paths", pages.Properties["DistributionPaths"], []any{"/console/*"})
	if _, ok := assets.Properties["DistributionId"]; ok {
		t.Error("the assets deployment invalidates too: one invalidation, after both")
	}
	if !strings.Contains(jsonString(pages.DependsOn), "ConsoleAssets") {
		t.Errorf("pages DependsOn %v: index.html could go live before its assets", pages.DependsOn)
	}

	// The pages' sources: the build, then config.json (a marker per deploy-time value).
	keys := pages.Properties["SourceObjectKeys"].([]any)
	markers := pages.Properties["SourceMarkers"].([]any)
	if len(keys) != 2 || len(markers) != 2 {
		t.Fatalf("pages sources %v", keys)
	}
	staged := func(i int) string {
		return filepath.Join(synthOut["dev"], "asset."+strings.TrimSuffix(keys[i].(string), ".zip"))
	}
	if _, err := os.Stat(filepath.Join(staged(0), "index.html")); err != nil {
		t.Errorf("the build's source has no index.html: %v", err)
	}
	if _, err := os.Stat(filepath.Join(staged(0), consoleConfigKey)); err == nil {
		t.Error("the build's own config.json is deployed (it would race the generated one)")
	}
	raw, err := os.ReadFile(filepath.Join(staged(1), consoleConfigKey))
	if err != nil {
		t.Fatal(err)
	}
	// Resolve each marker to its CloudFormation value, so the checks read what the deploy writes.
	resolved := string(raw)
	for marker, v := range markers[1].(map[string]any) {
		resolved = strings.ReplaceAll(resolved, marker, strings.ReplaceAll(jsonString(v), `"`, `'`))
	}
	var cfg struct {
		Env, API string
		Auth     map[string]string
	}
	if err := json.Unmarshal([]byte(resolved), &cfg); err != nil {
		t.Fatalf("config.json %s: %v", resolved, err)
	}
	var top map[string]any
	_ = json.Unmarshal(raw, &top)
	var authKeys []string
	for k := range top["auth"].(map[string]any) {
		authKeys = append(authKeys, k)
	}
	slices.Sort(authKeys)
	topKeys := []string{}
	for k := range top {
		topKeys = append(topKeys, k)
	}
	slices.Sort(topKeys)
	checkEq(t, "config.json keys", topKeys, gatewayJSONFields(t, "ConsoleSettings"))
	checkEq(t, "config.json auth keys", authKeys, gatewayJSONFields(t, "ConsoleAuth"))
	consoleID, _, _ := consoleClient(t, c, "dev")
	for what, tc := range map[string]struct{ got, want string }{
		"env":         {cfg.Env, "dev"},
		"api":         {cfg.API, `{'Fn::GetAtt':['HttpApi','ApiEndpoint']}`},
		"mode":        {cfg.Auth["mode"], "cognito"},
		"authority":   {cfg.Auth["authority"], `{'Fn::GetAtt':['UserPool6BA7E5F2','ProviderURL']}`},
		"clientId":    {cfg.Auth["clientId"], `{'Ref':'` + consoleID + `'}`},
		"redirectUri": {cfg.Auth["redirectUri"], `https://{'Fn::GetAtt':['ConsoleDistribution','DomainName']}/console/`},
	} {
		if tc.got != tc.want {
			t.Errorf("config.json %s = %q, want %q", what, tc.got, tc.want)
		}
	}
	if !regexp.MustCompile(`^https://\{'Ref':'UserPoolHostedUiDomain[0-9A-F]+'\}\.auth\.\{'Ref':'AWS::Region'\}\.amazoncognito\.com$`).MatchString(cfg.Auth["domain"]) {
		t.Errorf("config.json domain = %q, want the hosted UI domain", cfg.Auth["domain"])
	}
}

// The console's client: public (no secret), the authorization code grant only, OIDC scopes, the
// hosted UI with Cognito users, no API sign-in, and back to the distribution's /console/ only.
// The web app's client keeps SRP and no OAuth (the pool now has a hosted UI domain).
func TestConsoleClient(t *testing.T) {
	for _, env := range []string{"dev", "prod"} {
		c, _ := synth(t, env)
		_, cl, others := consoleClient(t, c, env)
		p := cl.Properties
		checkEq(t, env+" GenerateSecret", p["GenerateSecret"], false)
		checkEq(t, env+" AllowedOAuthFlows", p["AllowedOAuthFlows"], []any{"code"})
		checkEq(t, env+" AllowedOAuthFlowsUserPoolClient", p["AllowedOAuthFlowsUserPoolClient"], true)
		checkEq(t, env+" scopes", p["AllowedOAuthScopes"], []any{"openid", "email", "profile"})
		checkEq(t, env+" SupportedIdentityProviders", p["SupportedIdentityProviders"], []any{"COGNITO"})
		checkEq(t, env+" ExplicitAuthFlows", p["ExplicitAuthFlows"], []any{"ALLOW_REFRESH_TOKEN_AUTH"})
		url := []any{map[string]any{"Fn::Join": []any{"", []any{"https://",
			map[string]any{"Fn::GetAtt": []any{"ConsoleDistribution", "DomainName"}}, "/console/"}}}}
		checkEq(t, env+" CallbackURLs", p["CallbackURLs"], url)
		checkEq(t, env+" LogoutURLs", p["LogoutURLs"], url)
		checkEq(t, env+" IdTokenValidity (minutes)", p["IdTokenValidity"], 60.0)
		if len(others) != 1 {
			t.Fatalf("%s: other clients %v, want the web app's", env, others)
		}
		web := c.Resources[others[0]].Properties
		if web["AllowedOAuthFlows"] != nil || web["CallbackURLs"] != nil || web["AllowedOAuthFlowsUserPoolClient"] == true {
			t.Errorf("%s: the web client allows OAuth through the hosted UI: %v", env, web)
		}
		checkEq(t, env+" web client auth flows", web["ExplicitAuthFlows"], []any{"ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"})

		_, d := ofTypeOne(t, c, "AWS::Cognito::UserPoolDomain")
		checkEq(t, env+" hosted UI prefix", d.Properties["Domain"], map[string]any{"Fn::Join": []any{"",
			[]any{"monetization-" + env + "-", map[string]any{"Ref": "AWS::AccountId"}}}})
		for _, o := range []string{"ConsoleUrl", "ConsoleClientId", "HostedUiDomain"} {
			if _, ok := c.Outputs[o]; !ok {
				t.Errorf("%s: no output %s", env, o)
			}
		}
	}
}

// The API accepts the console: its JWT authorizer's audience lists both clients (an ID token's aud
// is its client), and CORS allows the distribution's origin beside the configured ones.
func TestConsoleCORSAndAudience(t *testing.T) {
	c, _ := synth(t, "dev")
	consoleID, _, others := consoleClient(t, c, "dev")
	_, a := ofTypeOne(t, c, "AWS::ApiGatewayV2::Authorizer")
	checkEq(t, "JWT audience", at(a.Properties, "JwtConfiguration", "Audience"),
		[]any{map[string]any{"Ref": others[0]}, map[string]any{"Ref": consoleID}})
	origins := jsonString(at(c.Resources[m.HTTPAPILogicalID].Properties, "CorsConfiguration", "AllowOrigins"))
	want := `["https://app.example.com",{"Fn::Join":["",[` + distributionDomain + `]]}]`
	if origins != want {
		t.Errorf("CORS origins %s, want %s", origins, want)
	}
}

// Synth stops, naming make console, when the build is missing; a configured hosted UI prefix is
// validated and used, the default is derived from the environment and the account.
func TestConsoleConfig(t *testing.T) {
	empty := t.TempDir()
	if err := checkConsole(empty); err == nil || !strings.Contains(err.Error(), "run make console") {
		t.Errorf("checkConsole(empty) = %v", err)
	}
	if err := checkConsole(consoleFixture); err != nil {
		t.Errorf("checkConsole(fixture) = %v", err)
	}
	assets := placeholderAssets(t)
	defer os.RemoveAll(assets)
	ctx := map[string]any{"env": "dev", "assetDir": assets, "consoleDir": empty, "allowedOrigins": "https://app.example.com",
		"mailFrom": "receipts@example.com", "stripePricePro": "price_1", "stripePriceEnterprise": "price_2", "appURL": "https://app.example.com"}
	app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx})
	if stack, err := buildApp(app); err == nil || !strings.Contains(err.Error(), "run make console") || stack != nil {
		t.Errorf("buildApp without a console build: stack %v, err %v", stack, err)
	}

	base := map[string]string{"allowedOrigins": "https://app.example.com", "mailFrom": "r@example.com",
		"stripePricePro": "price_1", "stripePriceEnterprise": "price_2", "appURL": "https://app.example.com"}
	get := func(k, v string) func(string) string {
		return func(key string) string {
			if key == k {
				return v
			}
			return base[key]
		}
	}
	c, err := ConfigFromContext(get("", ""))
	if err != nil || c.ConsoleDir != DefaultConsoleDir || c.ConsoleAuthDomain != "" {
		t.Errorf("defaults: %+v, %v", c, err)
	}
	for _, bad := range []string{"Acme-Ops", "-ops", "ops-", "my_ops", "aws-ops", "ops-amazon", "mycognito", strings.Repeat("a", 64)} {
		if _, err := ConfigFromContext(get("consoleAuthDomain", bad)); err == nil || !strings.Contains(err.Error(), "consoleAuthDomain") {
			t.Errorf("consoleAuthDomain %q: err %v", bad, err)
		}
	}
	c, err = ConfigFromContext(get("consoleAuthDomain", "acme-ops-1"))
	if err != nil {
		t.Fatal(err)
	}
	stack := awscdk.NewStack(awscdk.NewApp(nil), strp("S"), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: strp("123456789012"), Region: strp("eu-west-1")}})
	if got := *c.consoleAuthDomain(stack); got != "acme-ops-1" {
		t.Errorf("configured prefix: %s", got)
	}
	c.ConsoleAuthDomain = ""
	c.Env = "staging"
	if got := *c.consoleAuthDomain(stack); got != "monetization-staging-123456789012" || validConsoleAuthDomain(got) != nil {
		t.Errorf("derived prefix: %s", got)
	}
}

func strp(s string) *string { return &s }

// isDeploymentHandlerRole reports the role of CDK's BucketDeployment handler (console.go).
func isDeploymentHandlerRole(role string) bool {
	return strings.HasPrefix(role, "CustomCDKBucketDeployment")
}

// CDK's BucketDeployment handler (the one role whose actions CDK writes with wildcards) reaches only
// the CDK asset bucket (read), the console bucket (read and write) and CloudFront invalidations.
func TestConsoleDeploymentRole(t *testing.T) {
	c, _ := synth(t, "dev")
	found := false
	for role, stmts := range policies(t, c) {
		if !isDeploymentHandlerRole(role) {
			continue
		}
		found = true
		for _, s := range stmts {
			res := jsonString(s.Resource)
			actions := list(s.Action)
			switch {
			case strings.Contains(res, "cdk-hnb659fds-assets-"):
				for _, a := range actions {
					if !slices.Contains([]string{"s3:GetObject*", "s3:GetBucket*", "s3:List*"}, a) {
						t.Errorf("%s: %s on the asset bucket", role, a)
					}
				}
			case res == `[{"Fn::GetAtt":["ConsoleBucket","Arn"]},{"Fn::Join":["",[{"Fn::GetAtt":["ConsoleBucket","Arn"]},"/*"]]}]`:
				for _, a := range actions {
					if !strings.HasPrefix(a, "s3:") || a == "s3:*" || strings.Contains(a, "Policy") || strings.Contains(a, "Acl") {
						t.Errorf("%s: %s on the console bucket", role, a)
					}
				}
			default:
				checkEq(t, role+" other statement", s.Action, []any{"cloudfront:GetInvalidation", "cloudfront:CreateInvalidation"})
			}
		}
	}
	if !found {
		t.Fatal("no BucketDeployment handler role: the check ran on nothing")
	}
}
