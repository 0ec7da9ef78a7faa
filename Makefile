# Liberation Monetization — every command a developer or CI needs.
# Tools are pinned here and installed into .tools/ (git-ignored) on first use.
SHELL := /bin/bash
.DEFAULT_GOAL := help

GO                  ?= go
TOOLS               := $(CURDIR)/.tools
BIN                 := $(TOOLS)/bin
VENV                := $(TOOLS)/venv
STRIPE_MOCK_VERSION := v0.203.0
MAILPIT_VERSION     := v1.33.1
LOCAL               := $(GO) run ./infra/local/cmd/localstack
FUNCTIONS           := $(notdir $(wildcard functions/*))
BUILD_DIR           := build

export PATH := $(BIN):$(VENV)/bin:$(PATH)

.PHONY: help tools clean-tools dev test test-unit token trigger job emit build lint synth clean fmt bench generate

help: ## list targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

tools: $(BIN)/stripe-mock $(BIN)/mailpit $(VENV)/.installed ## install pinned stripe-mock, mailpit, moto, SAM CLI, cfn-lint

# After bumping a version above, delete the binary (or run `make clean-tools`) to reinstall it.
$(BIN)/stripe-mock:
	@mkdir -p $(BIN)
	GOBIN=$(BIN) $(GO) install github.com/stripe/stripe-mock@$(STRIPE_MOCK_VERSION)

$(BIN)/mailpit:
	@mkdir -p $(BIN)
	GOBIN=$(BIN) $(GO) install github.com/axllent/mailpit@$(MAILPIT_VERSION)

$(VENV)/.installed: infra/local/requirements.txt
	@test -x $(VENV)/bin/python3 || python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r infra/local/requirements.txt
	touch $@

dev: tools ## run the whole system locally (moto, stripe-mock, mailpit, gateway on :3000); Ctrl-C stops it
	$(LOCAL) dev

test: tools ## every test (unit, integration, end to end, CDK), with total coverage
	$(LOCAL) test

token: ## print a local bearer token: make -s token SUB=u1 [EMAIL=a@b.c] [GROUPS=admin,instructor]
	@$(LOCAL) token -sub "$(SUB)" -email "$(EMAIL)" -groups "$(GROUPS)"

# SUB, not USER: USER is the shell's login name and would silently become the event's user.
trigger: ## send a signed Stripe event to make dev's webhook: make trigger EVENT=invoice.paid SUB=u1 [TIER=pro] [AMOUNT=1900] [ARGS=...]
	@$(LOCAL) trigger -event "$(EVENT)" -user "$(SUB)" $(if $(TIER),-tier "$(TIER)") $(if $(AMOUNT),-amount "$(AMOUNT)") $(ARGS)

job: ## run a scheduled job now against the local stack: make job NAME=billing-cycle
	@$(LOCAL) job -name "$(NAME)"

emit: ## put a learning event or a fact on make dev's queue: make emit EVENT=lesson.completed SUB=u1 COURSE=c1 [LESSON=l1] [ID=evt-1] [ARGS=...]
	@$(LOCAL) emit -event "$(EVENT)" -user "$(SUB)" $(if $(COURSE),-course "$(COURSE)") $(if $(LESSON),-lesson "$(LESSON)") $(if $(ID),-id "$(ID)") $(ARGS)

generate: ## write functions/*/main.go, the registry and template.yaml from the manifest (commit the result)
	$(GO) generate ./shared/manifest

build: ## build every function as linux/arm64 bootstrap under build/<name>/
	@for f in $(FUNCTIONS); do \
	  GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build -trimpath -tags lambda.norpc -ldflags "-s -w" \
	    -o $(BUILD_DIR)/$$f/bootstrap ./functions/$$f || exit 1; \
	done; echo "built $(words $(FUNCTIONS)) functions into $(BUILD_DIR)/"

synth: build ## synthesize the CDK stack into infra/cdk/cdk.out
	cd infra/cdk && npm ci --silent && npx cdk synth --quiet

lint: tools synth ## go vet, gofmt, sam validate --lint, cfn-lint on the synthesized template
	$(GO) vet ./...
	@gofiles=$$(find shared functions infra -name '*.go' -not -path '*/node_modules/*'); \
	  test -z "$$(gofmt -l $$gofiles)" || (gofmt -l $$gofiles; exit 1)
	sam validate --lint --region us-east-1 -t template.yaml
	cd infra/cdk && $(GO) vet ./...
	@# W3005: CDK emits DependsOn on a function's role next to the GetAtt of it (harmless, by design)
	@if [ -d infra/cdk/cdk.out ]; then cfn-lint --ignore-checks W3005 -- infra/cdk/cdk.out/*.template.json; \
	  else echo "run 'make synth' to cfn-lint the CDK template"; fi

bench: tools ## run the benchmarks (micro, through the local gateway, cold-start init); see docs/performance.md
	$(GO) test -run '^$$' -bench . -benchmem ./shared/...
	$(GO) test -run '^$$' -bench 'Gateway' -benchtime 200x ./infra/local/e2e/
	$(GO) test -run '^$$' -bench 'WebhookWithItems' -benchtime 40x ./infra/local/e2e/
	$(GO) test -run '^$$' -bench 'GlobalLeaderboard' -benchtime 20x -timeout 60m ./infra/local/e2e/
	$(GO) test -run '^$$' -bench 'TransactWriteItems/patch=on' -benchtime 30x ./infra/local/motoserver/
	$(GO) run ./infra/local/cmd/coldstart -rounds 30

fmt: ## gofmt everything
	gofmt -w shared functions $$(find infra -name '*.go' -not -path '*/node_modules/*')

clean-tools: ## remove the installed tools (the next `make tools` reinstalls the pinned versions)
	rm -rf $(BIN)/stripe-mock $(BIN)/mailpit $(VENV)

clean: ## remove build outputs and local state (not the installed tools)
	rm -rf $(BUILD_DIR) .aws-sam .local infra/cdk/cdk.out coverage.out
