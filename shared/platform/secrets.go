package platform

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/liberation/monetization/shared/apperr"
)

// Secrets reads secret values: from an environment variable when set (local), otherwise from the
// SSM SecureString named by another variable (AWS), fetched on first use and cached for the life of
// the container (rotation: see docs/runbooks/rotate-stripe-secrets.md).
//
// The SSM call is one signed HTTPS POST (AmazonSSM.GetParameter) made with the SDK's SigV4 signer
// rather than the SSM client package, whose package initialisation alone costs ~2 ms of every cold
// start (docs/decisions/0015).
type Secrets struct {
	getenv func(string) string
	ssm    *ssmClient
	mu     sync.Mutex
	cache  map[string]string
	// Check, when set, authorises every read before it is answered: the local stack's IAM check
	// (infra/local/iamcheck) answers for SSM's GetParameter on the parameter named by paramEnv, so
	// a function not granted that parameter fails locally as it would in AWS, although locally
	// the value comes from the environment. nil in AWS, where SSM itself authorises.
	Check func(ctx context.Context, paramEnv string) error
}

// NewSecrets returns a Secrets reading env first, then SSM through awsCfg.
func NewSecrets(getenv func(string) string, awsCfg aws.Config) *Secrets {
	return &Secrets{getenv: getenv, cache: map[string]string{},
		ssm: &ssmClient{cfg: awsCfg, endpoint: ssmEndpoint(getenv, awsCfg.Region), http: &http.Client{Timeout: 5 * time.Second}}}
}

// Get returns the secret held in envName, else the SSM parameter named by paramEnv.
func (s *Secrets) Get(ctx context.Context, envName, paramEnv string) (string, error) {
	if s.Check != nil {
		if err := s.Check(ctx, paramEnv); err != nil {
			return "", apperr.Wrap(err, apperr.Unavailable, "read secret parameter")
		}
	}
	if v := s.getenv(envName); v != "" {
		return v, nil
	}
	name := s.getenv(paramEnv)
	if name == "" {
		return "", apperr.New(apperr.Internal, "neither %s nor %s is set", envName, paramEnv)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.cache[name]; ok {
		return v, nil
	}
	v, err := s.ssm.getParameter(ctx, name)
	if err != nil {
		return "", apperr.Wrap(err, apperr.Unavailable, "read secret parameter")
	}
	s.cache[name] = v
	return v, nil
}

// ssmEndpoint honours the SDK's endpoint overrides (AWS_ENDPOINT_URL_SSM, AWS_ENDPOINT_URL: moto
// locally), else the regional endpoint.
func ssmEndpoint(getenv func(string) string, region string) string {
	for _, k := range []string{"AWS_ENDPOINT_URL_SSM", "AWS_ENDPOINT_URL"} {
		if v := getenv(k); v != "" {
			return strings.TrimRight(v, "/")
		}
	}
	suffix := "amazonaws.com"
	if strings.HasPrefix(region, "cn-") {
		suffix = "amazonaws.com.cn"
	}
	return "https://ssm." + region + "." + suffix
}

type ssmClient struct {
	cfg      aws.Config
	endpoint string
	http     *http.Client
}

// getParameter is SSM's GetParameter with decryption (awsJson1.1 protocol).
func (c *ssmClient) getParameter(ctx context.Context, name string) (string, error) {
	body, _ := json.Marshal(map[string]any{"Name": name, "WithDecryption": true})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint+"/", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AmazonSSM.GetParameter")
	if c.cfg.Credentials == nil {
		return "", fmt.Errorf("no AWS credentials")
	}
	creds, err := c.cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return "", fmt.Errorf("credentials: %w", err)
	}
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "ssm", c.cfg.Region, time.Now()); err != nil {
		return "", fmt.Errorf("sign: %w", err)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return "", err
	}
	if res.StatusCode != http.StatusOK {
		var e struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		_ = json.Unmarshal(raw, &e)
		return "", fmt.Errorf("ssm GetParameter %s: status %d %s", name, res.StatusCode, e.Type)
	}
	var out struct {
		Parameter struct {
			Value string `json:"Value"`
		} `json:"Parameter"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return "", fmt.Errorf("ssm GetParameter %s: %w", name, err)
	}
	return out.Parameter.Value, nil
}
