package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2authorizers"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2integrations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscognito"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"

	m "github.com/liberation/monetization/shared/manifest"
)

// Cognito groups; membership reaches handlers as the cognito:groups claim ("support": the support
// agents of shared/support).
var groups = []string{"admin", "instructor", m.GroupSupport}

type auth struct {
	pool   awscognito.UserPool
	client awscognito.UserPoolClient
	jwt    awsapigatewayv2authorizers.HttpJwtAuthorizer
	// The operator console's hosted UI domain and app client (console.go).
	domain  awscognito.UserPoolDomain
	console awscognito.UserPoolClient
}

func newAuth(stack awscdk.Stack, cfg Config) *auth {
	removal := awscdk.RemovalPolicy_DESTROY
	if cfg.Prod() {
		removal = awscdk.RemovalPolicy_RETAIN
	}
	pool := awscognito.NewUserPool(stack, jsii.String("UserPool"), &awscognito.UserPoolProps{
		SelfSignUpEnabled: jsii.Bool(true),
		SignInAliases:     &awscognito.SignInAliases{Email: jsii.Bool(true)},
		AutoVerify:        &awscognito.AutoVerifiedAttrs{Email: jsii.Bool(true)},
		// A changed address stays unverified until its owner confirms it; until then the token
		// keeps the original, verified one (UserAttributeUpdateSettings), and email_verified decides
		// whether an address counts at all (shared/auth).
		KeepOriginal:    &awscognito.KeepOriginalAttrs{Email: jsii.Bool(true)},
		AccountRecovery: awscognito.AccountRecovery_EMAIL_ONLY,
		PasswordPolicy: &awscognito.PasswordPolicy{
			MinLength: jsii.Number(12), RequireLowercase: jsii.Bool(true), RequireUppercase: jsii.Bool(true),
			RequireDigits: jsii.Bool(true),
		},
		DeletionProtection: jsii.Bool(cfg.Prod()),
		RemovalPolicy:      removal,
		// TOTP (authenticator app) MFA, optional per user; admin and support accounts must enrol
		// (docs/operations.md, "MFA"). No SMS: no SNS role to grant, no SIM-swap path.
		Mfa:             awscognito.Mfa_OPTIONAL,
		MfaSecondFactor: &awscognito.MfaSecondFactor{Otp: jsii.Bool(true), Sms: jsii.Bool(false)},
	})
	for _, g := range groups {
		awscognito.NewCfnUserPoolGroup(stack, jsii.String(m.Pascal(g)+"Group"), &awscognito.CfnUserPoolGroupProps{
			UserPoolId: pool.UserPoolId(), GroupName: jsii.String(g),
		})
	}
	client := pool.AddClient(jsii.String("WebClient"), &awscognito.UserPoolClientOptions{
		AuthFlows: &awscognito.AuthFlow{UserSrp: jsii.Bool(true)},
		// The web app signs in by SRP, never through the hosted UI: without this CDK would allow the
		// implicit and code grants back to https://example.com, reachable once the pool has a domain
		// (the console's, console.go).
		DisableOAuth:               jsii.Bool(true),
		GenerateSecret:             jsii.Bool(false),
		PreventUserExistenceErrors: jsii.Bool(true),
	})
	// The hosted UI the operator console signs in through (console.go adds its app client).
	domain := pool.AddDomain(jsii.String("HostedUiDomain"), &awscognito.UserPoolDomainOptions{
		CognitoDomain: &awscognito.CognitoDomainOptions{DomainPrefix: cfg.consoleAuthDomain(stack)},
	})
	return &auth{pool: pool, client: client, domain: domain}
}

// addJWT makes the HTTP API's authorizer once every app client exists: an ID token's aud is the
// client it was issued to, so the audience lists the web app's and the console's clients.
func (a *auth) addJWT() {
	audience := []*string{a.client.UserPoolClientId()}
	if a.console != nil {
		audience = append(audience, a.console.UserPoolClientId())
	}
	a.jwt = awsapigatewayv2authorizers.NewHttpJwtAuthorizer(jsii.String("CognitoJwt"), a.pool.UserPoolProviderUrl(),
		&awsapigatewayv2authorizers.HttpJwtAuthorizerProps{JwtAudience: &audience})
}

// consoleOrigin (https://<distribution>, console.go) joins the configured origins in CORS.
func newHTTPAPI(stack awscdk.Stack, cfg Config, a *auth, consoleOrigin *string) awsapigatewayv2.HttpApi {
	origins := make([]*string, len(cfg.AllowedOrigins), len(cfg.AllowedOrigins)+1)
	for i, o := range cfg.AllowedOrigins {
		origins[i] = jsii.String(o)
	}
	origins = append(origins, consoleOrigin)
	api := awsapigatewayv2.NewHttpApi(stack, jsii.String(m.HTTPAPILogicalID), &awsapigatewayv2.HttpApiProps{
		ApiName: jsii.String("monetization-" + cfg.Env),
		// Tokens travel in the Authorization header, not cookies: no credentials, explicit origins.
		CorsPreflight: &awsapigatewayv2.CorsPreflightOptions{
			AllowOrigins: &origins,
			AllowMethods: &[]awsapigatewayv2.CorsHttpMethod{
				awsapigatewayv2.CorsHttpMethod_GET, awsapigatewayv2.CorsHttpMethod_POST,
				awsapigatewayv2.CorsHttpMethod_PUT, awsapigatewayv2.CorsHttpMethod_PATCH, awsapigatewayv2.CorsHttpMethod_DELETE,
			},
			AllowHeaders:     jsii.Strings("authorization", "content-type", "idempotency-key"),
			AllowCredentials: jsii.Bool(false),
			MaxAge:           awscdk.Duration_Hours(jsii.Number(1)),
		},
	})
	setLogicalID(api, m.HTTPAPILogicalID)
	// Bound consumption at the edge; handlers still limit bodies and page sizes.
	stage := api.DefaultStage().Node().DefaultChild().(awsapigatewayv2.CfnStage)
	stage.SetDefaultRouteSettings(&awsapigatewayv2.CfnStage_RouteSettingsProperty{
		ThrottlingBurstLimit: jsii.Number(200), ThrottlingRateLimit: jsii.Number(100),
	})
	stage.SetAccessLogSettings(&awsapigatewayv2.CfnStage_AccessLogSettingsProperty{
		DestinationArn: newAccessLogs(stack, cfg).LogGroupArn(),
		Format:         jsii.String(AccessLogFormat),
	})
	return api
}

// AccessLogFormat is the HTTP API's access log line: one JSON object per request with the ids,
// route, status, latencies and integration or authorizer error, and nothing a caller sent (no
// headers, so no tokens; no bodies; no query strings, path or source address). template.yaml
// carries the same format (a test compares them).
const AccessLogFormat = `{"requestId":"$context.requestId","routeKey":"$context.routeKey","status":"$context.status",` +
	`"responseLatency":"$context.responseLatency","integrationLatency":"$context.integrationLatency",` +
	`"integrationError":"$context.integrationErrorMessage","authorizerError":"$context.authorizer.error",` +
	`"requestTime":"$context.requestTimeEpoch","protocol":"$context.protocol","responseLength":"$context.responseLength"}`

// newAccessLogs is the access log group, kept as long as the functions' logs (functions.go).
func newAccessLogs(stack awscdk.Stack, cfg Config) awslogs.LogGroup {
	retention, removal := awslogs.RetentionDays_ONE_MONTH, awscdk.RemovalPolicy_DESTROY
	if cfg.Prod() {
		retention, removal = awslogs.RetentionDays_THREE_MONTHS, awscdk.RemovalPolicy_RETAIN
	}
	logs := awslogs.NewLogGroup(stack, jsii.String(AccessLogsLogicalID), &awslogs.LogGroupProps{
		Retention: retention, RemovalPolicy: removal,
	})
	setLogicalID(logs, AccessLogsLogicalID)
	skipChecks(logs, m.ScanSkip{ID: m.CheckLogGroupKMS, Comment: "CloudWatch Logs encrypts every log group at rest; " +
		"the access log holds ids, routes, statuses and latencies only (no tokens, bodies or query strings), so a " +
		"customer key would add a key policy and cost, not protection."})
	return logs
}

// AccessLogsLogicalID names the access log group in both templates.
const AccessLogsLogicalID = "HttpApiAccessLogs"

// addRoute exposes one HTTP function at its manifest route key.
func addRoute(stack awscdk.Stack, api awsapigatewayv2.HttpApi, a *auth, f m.Function, fn awslambda.Function) {
	var authorizer awsapigatewayv2.IHttpRouteAuthorizer = awsapigatewayv2.NewHttpNoneAuthorizer()
	if f.NeedsJWT() {
		authorizer = a.jwt // Admin routes: the handler checks the admin group.
	}
	awsapigatewayv2.NewHttpRoute(stack, jsii.String(m.Pascal(f.Name)+"Route"), &awsapigatewayv2.HttpRouteProps{
		HttpApi:  api,
		RouteKey: awsapigatewayv2.HttpRouteKey_With(jsii.String(f.Trigger.Path), awsapigatewayv2.HttpMethod(f.Trigger.Method)),
		Integration: awsapigatewayv2integrations.NewHttpLambdaIntegration(jsii.String(m.Pascal(f.Name)+"Integration"), fn,
			&awsapigatewayv2integrations.HttpLambdaIntegrationProps{
				PayloadFormatVersion: awsapigatewayv2.PayloadFormatVersion_VERSION_2_0(),
			}),
		Authorizer: authorizer,
	})
}
