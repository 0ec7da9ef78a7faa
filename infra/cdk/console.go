package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudfront"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudfrontorigins"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscognito"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3assets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3deployment"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	m "github.com/liberation/monetization/shared/manifest"
)

// The operator's console in AWS (issue 20, docs/decisions/0094): the built single-page app
// (web/console/dist, `make console`) in a private bucket under console/, served only by a CloudFront
// distribution through origin access control at https://<distribution>/console/, signing in through
// the user pool's hosted UI with its own public app client (authorization code + PKCE). CDK only:
// SAM's template.yaml, the local stack's, has no console (the local gateway serves it there).

// DefaultConsoleDir is where `make console` writes the app, relative to infra/cdk.
const DefaultConsoleDir = "../../web/console/dist"

// ConsolePrefix is the key prefix of the app in the console bucket and its path on the distribution.
const ConsolePrefix = "console/"

// consoleAuthDomainRe is a valid Cognito domain prefix: lowercase letters, digits and hyphens, not at
// either end, at most 63 characters.
var consoleAuthDomainRe = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`)

// validConsoleAuthDomain checks a configured hosted UI domain prefix (-c consoleAuthDomain=...).
// Cognito refuses prefixes containing aws, amazon or cognito; that would only show at deploy.
func validConsoleAuthDomain(p string) error {
	if !consoleAuthDomainRe.MatchString(p) {
		return fmt.Errorf("consoleAuthDomain %q must be 1–63 lowercase letters, digits and hyphens (not at either end)", p)
	}
	for _, reserved := range []string{"aws", "amazon", "cognito"} {
		if strings.Contains(p, reserved) {
			return fmt.Errorf("consoleAuthDomain %q must not contain %q (Cognito reserves it)", p, reserved)
		}
	}
	return nil
}

// checkConsole fails when the console's build output is missing: the stack would deploy an empty site.
func checkConsole(dir string) error {
	for _, name := range []string{"index.html", consoleAssetsDir} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("no %s in the console directory %s: run make console (consoleDir sets another)", name, dir)
		}
	}
	return nil
}

// Scanner suppressions of the console's resources, each with its reason (decision 0094).
var (
	skipConsoleBucketLogs = m.ScanSkip{ID: m.CheckBucketAccessLogs, Comment: "The console bucket holds only the " +
		"built app (public-by-design static code, no data); it is read only by the CloudFront distribution through " +
		"origin access control, and every data request goes to the HTTP API, whose access log records it."}
	skipConsoleCDNLogs = m.ScanSkip{ID: "CKV_AWS_86", Comment: "Standard logs would need a second bucket with ACLs " +
		"enabled for the static app's files only; nothing the console shows or changes passes through CloudFront " +
		"(the API logs each call), and CloudFront's metrics count requests and errors."}
	skipConsoleWAF = m.ScanSkip{ID: "CKV_AWS_68", Comment: "The distribution serves static files from a private " +
		"bucket: no origin logic to attack; the API behind the console has its own throttling and authorisation. " +
		"A WAF web ACL for CloudFront must live in us-east-1 and costs a monthly fee per ACL and rule."}
	skipConsoleOriginFailover = m.ScanSkip{ID: "CKV_AWS_310", Comment: "One origin, the console bucket in the stack's " +
		"region; a failover origin would need a replicated second bucket for an operators' tool that can wait."}
	skipConsoleDefaultCert = m.ScanSkip{ID: "CKV_AWS_174", Comment: "No custom domain yet: the console is served " +
		"as <id>.cloudfront.net with CloudFront's default certificate, whose security policy CloudFront sets; the " +
		"distribution asks for TLSv1.2_2021, which takes effect when a custom domain's certificate is added."}
	skipConsoleDeploymentWrite = m.ScanSkip{ID: "CKV_AWS_111", Comment: "CDK's BucketDeployment grant: the only write " +
		"without a resource constraint is cloudfront:CreateInvalidation (it expires cached copies, changes no content), " +
		"on a role only CloudFormation's custom resource uses during a deploy; S3 writes are limited to the console bucket."}
	skipConsoleGeo = m.ScanSkip{ID: "CKV_AWS_374", Comment: "Operators and support agents work from anywhere; " +
		"sign-in (Cognito, MFA for admin and support) and the API's groups decide access, not the country."}
)

// console is the console's hosting: the bucket, the distribution and the URL the app is served at.
type console struct {
	bucket       awss3.Bucket
	distribution awscloudfront.Distribution
	origin       *string // https://<distribution domain>: the API's CORS allows it
	url          *string // https://<distribution domain>/console/: the app, its redirect and logout URL
}

// newConsole builds the bucket and the distribution and adds the console app client to the user
// pool. It runs before the JWT authorizer is made: the authorizer's audience names the client.
func newConsole(stack awscdk.Stack, cfg Config, a *auth) *console {
	if err := checkConsole(cfg.consoleDir()); err != nil {
		panic("cdk: " + err.Error())
	}
	removal := awscdk.RemovalPolicy_DESTROY
	if cfg.Prod() {
		removal = awscdk.RemovalPolicy_RETAIN
	}
	bucket := awss3.NewBucket(stack, jsii.String("ConsoleBucket"), &awss3.BucketProps{
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL:        jsii.Bool(true),
		Versioned:         jsii.Bool(true),
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		RemovalPolicy:     removal,
		// Each deploy replaces the app's files; the previous versions stay a month (a rollback by
		// hand) and then go.
		LifecycleRules: &[]*awss3.LifecycleRule{{
			AbortIncompleteMultipartUploadAfter: awscdk.Duration_Days(jsii.Number(1)),
			NoncurrentVersionExpiration:         awscdk.Duration_Days(jsii.Number(30)),
		}},
	})
	setLogicalID(bucket, "ConsoleBucket")
	skipChecks(bucket, skipConsoleBucketLogs)

	paths := awscloudfront.NewFunction(stack, jsii.String("ConsolePaths"), &awscloudfront.FunctionProps{
		Code:    awscloudfront.FunctionCode_FromInline(jsii.String(consolePathsJS)),
		Runtime: awscloudfront.FunctionRuntime_JS_2_0(),
		Comment: jsii.String("Console paths: / and /console redirect to /console/, a directory serves its index.html"),
	})
	headers := awscloudfront.NewResponseHeadersPolicy(stack, jsii.String("ConsoleHeaders"), &awscloudfront.ResponseHeadersPolicyProps{
		Comment: jsii.String("Security headers of the operator console"),
		SecurityHeadersBehavior: &awscloudfront.ResponseSecurityHeadersBehavior{
			ContentSecurityPolicy: &awscloudfront.ResponseHeadersContentSecurityPolicy{
				ContentSecurityPolicy: consoleCSP(stack, a.domain.BaseUrl(nil)), Override: jsii.Bool(true),
			},
			ContentTypeOptions: &awscloudfront.ResponseHeadersContentTypeOptions{Override: jsii.Bool(true)},
			FrameOptions: &awscloudfront.ResponseHeadersFrameOptions{
				FrameOption: awscloudfront.HeadersFrameOption_DENY, Override: jsii.Bool(true),
			},
			// The hosted UI returns to /console/?code=…: no page of the console sends its URL on.
			ReferrerPolicy: &awscloudfront.ResponseHeadersReferrerPolicy{
				ReferrerPolicy: awscloudfront.HeadersReferrerPolicy_NO_REFERRER, Override: jsii.Bool(true),
			},
			StrictTransportSecurity: &awscloudfront.ResponseHeadersStrictTransportSecurity{
				AccessControlMaxAge: awscdk.Duration_Days(jsii.Number(730)), IncludeSubdomains: jsii.Bool(true),
				Override: jsii.Bool(true),
			},
		},
		CustomHeadersBehavior: &awscloudfront.ResponseCustomHeadersBehavior{CustomHeaders: &[]*awscloudfront.ResponseCustomHeader{
			{Header: jsii.String("Permissions-Policy"), Value: jsii.String("camera=(), microphone=(), geolocation=(), payment=()"), Override: jsii.Bool(true)},
			{Header: jsii.String("Cross-Origin-Opener-Policy"), Value: jsii.String("same-origin"), Override: jsii.Bool(true)},
		}},
	})
	dist := awscloudfront.NewDistribution(stack, jsii.String("ConsoleDistribution"), &awscloudfront.DistributionProps{
		Comment: jsii.String("monetization-" + cfg.Env + " operator console"),
		DefaultBehavior: &awscloudfront.BehaviorOptions{
			// Origin access control: the bucket policy lets cloudfront.amazonaws.com read, only on behalf
			// of this distribution (AWS:SourceArn); no origin access identity, no public read.
			Origin: awscloudfrontorigins.S3BucketOrigin_WithOriginAccessControl(bucket, &awscloudfrontorigins.S3BucketOriginWithOACProps{
				OriginAccessLevels: &[]awscloudfront.AccessLevel{awscloudfront.AccessLevel_READ},
			}),
			ViewerProtocolPolicy:  awscloudfront.ViewerProtocolPolicy_REDIRECT_TO_HTTPS,
			AllowedMethods:        awscloudfront.AllowedMethods_ALLOW_GET_HEAD(),
			CachePolicy:           awscloudfront.CachePolicy_CACHING_OPTIMIZED(),
			ResponseHeadersPolicy: headers,
			FunctionAssociations: &[]*awscloudfront.FunctionAssociation{{
				Function: paths, EventType: awscloudfront.FunctionEventType_VIEWER_REQUEST,
			}},
		},
		DefaultRootObject: jsii.String(ConsolePrefix + "index.html"),
		HttpVersion:       awscloudfront.HttpVersion_HTTP2_AND_3,
		PriceClass:        awscloudfront.PriceClass_PRICE_CLASS_100,
		// TLS 1.2_2021 minimum for when a custom domain's certificate is added (`certificate`,
		// `domainNames`): CDK renders it only with one. The *.cloudfront.net name is served with
		// CloudFront's default certificate, whose policy CloudFront fixes.
		MinimumProtocolVersion: awscloudfront.SecurityPolicyProtocol_TLS_V1_2_2021,
	})
	setLogicalID(dist, "ConsoleDistribution")
	awscdk.Annotations_Of(dist).AcknowledgeWarning(jsii.String("@aws-cdk/aws-cloudfront:minimumProtocolVersionWithoutCertificate"),
		jsii.String("intended: the minimum applies once a custom domain's certificate is added (decision 0094)"))
	skipChecks(dist, skipConsoleCDNLogs, skipConsoleWAF, skipConsoleOriginFailover, skipConsoleGeo, skipConsoleDefaultCert)

	c := &console{bucket: bucket, distribution: dist}
	c.origin = jsii.String("https://" + *dist.DistributionDomainName())
	c.url = jsii.String(*c.origin + "/" + ConsolePrefix)

	// The console's app client: public (a browser cannot keep a secret), the hosted UI's authorization
	// code grant only (Cognito requires PKCE of public clients using it; oidc-client-ts sends S256),
	// no sign-in by API (only ALLOW_REFRESH_TOKEN_AUTH), back to the console only.
	a.console = a.pool.AddClient(jsii.String("ConsoleClient"), &awscognito.UserPoolClientOptions{
		UserPoolClientName: jsii.String("monetization-" + cfg.Env + "-console"),
		GenerateSecret:     jsii.Bool(false),
		OAuth: &awscognito.OAuthSettings{
			Flows:        &awscognito.OAuthFlows{AuthorizationCodeGrant: jsii.Bool(true)},
			Scopes:       &[]awscognito.OAuthScope{awscognito.OAuthScope_OPENID(), awscognito.OAuthScope_EMAIL(), awscognito.OAuthScope_PROFILE()},
			CallbackUrls: &[]*string{c.url},
			LogoutUrls:   &[]*string{c.url},
		},
		SupportedIdentityProviders: &[]awscognito.UserPoolClientIdentityProvider{awscognito.UserPoolClientIdentityProvider_COGNITO()},
		PreventUserExistenceErrors: jsii.Bool(true),
		// An operator's session: the ID token the API checks lives an hour (as the local one), the
		// refresh token a working day.
		IdTokenValidity:       awscdk.Duration_Hours(jsii.Number(1)),
		AccessTokenValidity:   awscdk.Duration_Hours(jsii.Number(1)),
		RefreshTokenValidity:  awscdk.Duration_Hours(jsii.Number(12)),
		EnableTokenRevocation: jsii.Bool(true),
	})
	a.console.Node().DefaultChild().(awscognito.CfnUserPoolClient).SetExplicitAuthFlows(jsii.Strings("ALLOW_REFRESH_TOKEN_AUTH"))
	return c
}

// deploy uploads the built app under console/ with its config.json (the deploy-time values the app
// reads first: API, authority, client, hosted UI, redirect) and invalidates /console/* afterwards.
// Caching as the local gateway's (decision 0093): Vite's content-hashed assets/* immutable for a
// year, everything else (index.html, config.json) no-cache, so a browser revalidates the page and
// never keeps an index.html naming files a later deploy pruned.
func (c *console) deploy(stack awscdk.Stack, cfg Config, a *auth, api awsapigatewayv2.HttpApi) {
	// Kept as long as the functions' logs (functions.go): a month, three in prod.
	retention, removal := awslogs.RetentionDays_ONE_MONTH, awscdk.RemovalPolicy_DESTROY
	if cfg.Prod() {
		retention, removal = awslogs.RetentionDays_THREE_MONTHS, awscdk.RemovalPolicy_RETAIN
	}
	logs := awslogs.NewLogGroup(stack, jsii.String("ConsoleDeploymentLogs"), &awslogs.LogGroupProps{
		Retention: retention, RemovalPolicy: removal,
	})
	skipChecks(logs, m.SkipLogGroupKMS)
	dir := cfg.consoleDir()
	assets := awss3deployment.NewBucketDeployment(stack, jsii.String("ConsoleAssets"), &awss3deployment.BucketDeploymentProps{
		Sources:              &[]awss3deployment.ISource{awss3deployment.Source_Asset(jsii.String(filepath.Join(dir, consoleAssetsDir)), nil)},
		DestinationBucket:    c.bucket,
		DestinationKeyPrefix: jsii.String(ConsolePrefix + consoleAssetsDir + "/"),
		Prune:                jsii.Bool(true),
		CacheControl: &[]awss3deployment.CacheControl{awss3deployment.CacheControl_SetPublic(),
			awss3deployment.CacheControl_MaxAge(awscdk.Duration_Days(jsii.Number(365))), awss3deployment.CacheControl_Immutable()},
		MemoryLimit: jsii.Number(512),
		LogGroup:    logs,
	})
	pages := awss3deployment.NewBucketDeployment(stack, jsii.String("ConsolePages"), &awss3deployment.BucketDeploymentProps{
		Sources: &[]awss3deployment.ISource{
			// A config.json in the build (a local one) never reaches AWS: the one below replaces it.
			awss3deployment.Source_Asset(jsii.String(dir), &awss3assets.AssetOptions{Exclude: jsii.Strings(consoleConfigKey)}),
			awss3deployment.Source_JsonData(jsii.String(consoleConfigKey), consoleConfig(cfg, a, api, c), nil),
		},
		DestinationBucket:    c.bucket,
		DestinationKeyPrefix: jsii.String(ConsolePrefix),
		// assets/ is the other deployment's: neither written nor pruned here.
		Exclude:           jsii.Strings(consoleAssetsDir + "/*"),
		Prune:             jsii.Bool(true),
		CacheControl:      &[]awss3deployment.CacheControl{awss3deployment.CacheControl_NoCache()},
		Distribution:      c.distribution,
		DistributionPaths: jsii.Strings("/" + ConsolePrefix + "*"),
		MemoryLimit:       jsii.Number(512),
		LogGroup:          logs,
	})
	// The new index.html goes live (and the edge is invalidated) only once the files it names exist.
	pages.Node().AddDependency(assets)
	skipDeploymentHandlerChecks(stack)

	output(stack, "ConsoleUrl", c.url, "Operator console (CloudFront)")
	output(stack, "ConsoleClientId", a.console.UserPoolClientId(), "Cognito app client of the console (hosted UI, code + PKCE)")
	output(stack, "HostedUiDomain", a.domain.BaseUrl(nil), "Cognito hosted UI domain the console signs in through")
}

// consoleAssetsDir is Vite's directory of content-hashed files in the build.
const consoleAssetsDir = "assets"

// consoleConfigKey is the runtime configuration the app loads from /console/config.json.
const consoleConfigKey = "config.json"

// consoleConfig is config.json in AWS (the console's shared conventions): api without a trailing
// slash (the app appends /admin/...), the user pool as OIDC authority, the console client, the hosted
// UI domain and the redirect URI, which is also the client's callback URL.
func consoleConfig(cfg Config, a *auth, api awsapigatewayv2.HttpApi, c *console) map[string]any {
	return map[string]any{
		"env": cfg.Env,
		"api": api.ApiEndpoint(),
		"auth": map[string]any{
			"mode":        "cognito",
			"authority":   a.pool.UserPoolProviderUrl(),
			"clientId":    a.console.UserPoolClientId(),
			"domain":      a.domain.BaseUrl(nil),
			"redirectUri": c.url,
		},
	}
}

// consoleCSP is the local gateway's policy (gateway.ConsoleCSP, decision 0093; TestConsoleCSPMatchesLocal
// compares them) with connect-src widened from 'self' to where the app calls in AWS: the API, the user
// pool's OIDC endpoints (cognito-idp: discovery, keys) and the hosted UI (token endpoint).
//
// connect-src names the region's execute-api hosts, not the API's own: the API's CORS names the
// distribution, so a policy naming the API would make the distribution depend on the API and the API
// on the distribution — a cycle CloudFormation refuses (decision 0094).
func consoleCSP(stack awscdk.Stack, hostedUI *string) *string {
	region, suffix := *stack.Region(), *stack.UrlSuffix()
	return jsii.String(strings.Join([]string{
		"default-src 'self'",
		"script-src 'self'",
		"style-src 'self'",
		"img-src 'self' data:",
		"connect-src 'self' https://*.execute-api." + region + "." + suffix + " https://cognito-idp." + region + "." + suffix + " " + *hostedUI,
		"frame-ancestors 'none'",
		"base-uri 'self'",
		"form-action 'self'",
		"object-src 'none'",
	}, "; "))
}

// consolePathsJS is the viewer-request CloudFront Function: the site root and /console go to
// /console/ (a permanent redirect, so relative asset paths resolve under /console/), and a path
// ending in / serves that directory's index.html (the hosted UI returns to /console/?code=…).
const consolePathsJS = `function handler(event) {
  var request = event.request;
  var uri = request.uri;
  if (uri === '/' || uri === '/console') {
    return { statusCode: 301, statusDescription: 'Moved Permanently', headers: { location: { value: '/console/' } } };
  }
  if (uri.endsWith('/')) {
    request.uri = uri + 'index.html';
  }
  return request;
}
`

// skipDeploymentHandlerChecks explains the scanner findings on CDK's own BucketDeployment function
// (a singleton at the stack's root that copies the assets and invalidates the distribution; its code
// is CDK's, invoked only by CloudFormation during a deploy).
func skipDeploymentHandlerChecks(stack awscdk.Stack) {
	fn := deploymentHandler(stack)
	if fn == nil {
		panic("cdk: no BucketDeployment handler function at the stack's root")
	}
	policy := fn.Node().TryFindChild(jsii.String("ServiceRole")).Node().TryFindChild(jsii.String("DefaultPolicy"))
	skipChecks(policy, skipConsoleDeploymentWrite)
	skipChecks(fn,
		m.ScanSkip{ID: m.CheckLambdaConcurrency, Comment: "CDK's BucketDeployment handler runs once per deploy, " +
			"invoked by CloudFormation only; reserving concurrency for it would take from the account's pool for nothing."},
		m.ScanSkip{ID: m.CheckLambdaDLQ, Comment: "Invoked synchronously by CloudFormation during a deploy; a " +
			"failure fails the deploy and rolls it back, so there is no event to keep in a dead-letter queue."},
		m.ScanSkip{ID: m.CheckLambdaVPC, Comment: "CDK's BucketDeployment handler reaches only S3 and CloudFront " +
			"APIs; a VPC would add NAT or endpoints and no protection."},
		m.ScanSkip{ID: m.CheckLambdaEnvKMS, Comment: "CDK's BucketDeployment handler has no secrets in its " +
			"environment (none at all but CDK's own settings); a customer key would add cost, not protection."},
	)
}

// deploymentHandler finds CDK's BucketDeployment singleton function (Custom::CDKBucketDeployment…).
func deploymentHandler(stack awscdk.Stack) constructs.IConstruct {
	for _, child := range *stack.Node().Children() {
		if strings.HasPrefix(*child.Node().Id(), "Custom::CDKBucketDeployment") {
			if _, ok := child.Node().DefaultChild().(awslambda.CfnFunction); ok {
				return child
			}
		}
	}
	return nil
}
