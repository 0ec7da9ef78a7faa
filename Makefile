# Liberation Monetization — every command a developer or CI needs.
# Tools are pinned here and installed into .tools/ (git-ignored) on first use.
SHELL := /bin/bash
.DEFAULT_GOAL := help

GO                  ?= go
TOOLS               := $(CURDIR)/.tools
BIN                 := $(TOOLS)/bin
VENV                := $(TOOLS)/venv
LINT_VENV           := $(TOOLS)/lint-venv
CHECKOV_VENV        := $(TOOLS)/checkov-venv
STRIPE_MOCK_VERSION := v0.203.0
MAILPIT_VERSION     := v1.33.1
STATICCHECK_VERSION := v0.8.2
# Node.js for the CDK: the runtime of the Go stack's jsii kernel (the CDK tests in `make test`) and of
# the CDK CLI (`make synth`, deploy). An LTS from npm's node-linux-<arch> packages (Node 20 reached
# end of life on 2026-10-30 and the CDK CLI warns on every synth), checked against the registry's
# sha512 (its `dist.integrity`, in hex) before it is unpacked into .tools/node-<version>.
NODE_VERSION        := 24.22.3
NODE_SHA512_x64     := 287b286fe16ff587ab013bd8ba331b8b226a9d10af2edadcaff79336a46a88e486a7dec43a244fd723f8efe9271a043fc677375d8f31ce45b9f3b76567336a44
NODE_SHA512_arm64   := 219c74279dbfd4d0f002c6368b2591f6794f218b98be24d67ad8e3f3e125bd8421dbe5d184b7c27e46c5105ff63b9bc623685c51bc8f34757e9f3df8d856c95f
NODE_ARCH           := $(if $(filter aarch64 arm64,$(shell uname -m)),arm64,x64)
NODE_DIR            := $(TOOLS)/node-$(NODE_VERSION)
# Debian's Chromium for the console's browser tests (infra/local/browser; CHROMIUM moves it there too).
CHROMIUM            ?= /usr/bin/chromium
# The operator console (web/console, docs/decisions/0093): rebuilt when a source, the lock file or the
# build's configuration is newer than dist/index.html, which every build rewrites.
CONSOLE             := web/console
CONSOLE_INPUTS      := $(shell find $(CONSOLE)/src $(CONSOLE)/public -type f 2>/dev/null) \
                       $(wildcard $(CONSOLE)/index.html $(CONSOLE)/package.json $(CONSOLE)/package-lock.json $(CONSOLE)/vite.config.ts $(CONSOLE)/tsconfig*.json)
# The local stack's command (dev, test, token, trigger, job), built once per call of make: running
# the binary rather than `go run` keeps Ctrl-C and failures free of `go run`'s "exit status" lines.
LOCAL               := $(CURDIR)/.local/bin/localstack
FUNCTIONS           := $(notdir $(wildcard functions/*))
BUILD_DIR           := build
# Wheels only (no source builds), no bytecode compiled at install time (Python compiles on first
# import); see docs/performance.md for what each step costs on a machine with empty caches.
PIP_INSTALL         := pip install --quiet --disable-pip-version-check --only-binary=:all: --no-compile

# Local URLs as `make help` shows them: the environment's ports, else `make dev`'s defaults (the
# same as infra/local/cmd/localstack's and infra/local/services'; makefile_test.go keeps them equal).
DEFAULT_PORT             := 3000
DEFAULT_MAILPIT_PORT     := 8025
DEFAULT_SMTP_PORT        := 1025
DEFAULT_MOTO_PORT        := 5055
DEFAULT_STRIPE_MOCK_PORT := 12111
API_URL                   = http://127.0.0.1:$(or $(PORT),$(DEFAULT_PORT))

# --skip-download: no calls to the vendor's platform (guidelines, policies); the checks ship in the package.
CHECKOV             := $(CHECKOV_VENV)/bin/checkov --framework cloudformation --skip-download --quiet --compact

export PATH := $(BIN):$(VENV)/bin:$(PATH)

.PHONY: help tools lint-tools clean-tools localstack console dev test fuzz token trigger job migrate seed emit restore-drill smoke build lint synth clean fmt bench generate

help: ## list targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'
	@echo
	@echo "  make dev serves (PORT, MAILPIT_PORT, SMTP_PORT, MOTO_PORT, STRIPE_MOCK_PORT move them):"
	@echo "    API               $(API_URL)"
	@echo "    console           $(API_URL)/console/   (local sign-in; make console builds it)"
	@echo "    Stripe webhook    $(API_URL)/webhooks/stripe"
	@echo "    mail inbox        http://127.0.0.1:$(or $(MAILPIT_PORT),$(DEFAULT_MAILPIT_PORT))   (SMTP 127.0.0.1:$(or $(SMTP_PORT),$(DEFAULT_SMTP_PORT)))"
	@echo "    moto (AWS)        http://127.0.0.1:$(or $(MOTO_PORT),$(DEFAULT_MOTO_PORT))"
	@echo "    stripe-mock       http://127.0.0.1:$(or $(STRIPE_MOCK_PORT),$(DEFAULT_STRIPE_MOCK_PORT))"

tools: ## install pinned stripe-mock, mailpit, moto, schemathesis, Node.js and chromium (what dev and test need)
	@$(MAKE) --no-print-directory -j3 -Otarget $(BIN)/stripe-mock $(BIN)/mailpit $(VENV)/.installed $(NODE_DIR)/.installed
	@test -x $(CHROMIUM) || $(MAKE) --no-print-directory $(CHROMIUM)

lint-tools: $(LINT_VENV)/.installed $(CHECKOV_VENV)/.installed ## install pinned SAM CLI, cfn-lint and checkov (only `make lint` needs them)

# After bumping a version above, delete the binary (or run `make clean-tools`) to reinstall it.
$(BIN)/stripe-mock:
	@mkdir -p $(BIN)
	GOBIN=$(BIN) $(GO) install github.com/stripe/stripe-mock@$(STRIPE_MOCK_VERSION)

$(BIN)/mailpit:
	@mkdir -p $(BIN)
	GOBIN=$(BIN) $(GO) install github.com/axllent/mailpit@$(MAILPIT_VERSION)

# A new NODE_VERSION is a new directory: the link below is remade and the old one can be deleted.
$(NODE_DIR)/.installed:
	@mkdir -p $(NODE_DIR) $(BIN)
	curl -fsSL --retry 3 -o $(NODE_DIR)/node.tgz https://registry.npmjs.org/node-linux-$(NODE_ARCH)/-/node-linux-$(NODE_ARCH)-$(NODE_VERSION).tgz
	@echo "$(NODE_SHA512_$(NODE_ARCH))  $(NODE_DIR)/node.tgz" | sha512sum --check --quiet || \
	  (echo "node-linux-$(NODE_ARCH) $(NODE_VERSION): the download does not match the pinned sha512"; rm -f $(NODE_DIR)/node.tgz; exit 1)
	tar -xzf $(NODE_DIR)/node.tgz -C $(NODE_DIR) --strip-components=1 && rm -f $(NODE_DIR)/node.tgz
	ln -sf $(NODE_DIR)/bin/node $(BIN)/node
	@$(BIN)/node --version
	touch $@

# Chromium from the distribution (apt), not pinned: the browser tests drive whatever Debian ships. Run
# alone, not under -Otarget above, so that sudo's password prompt is seen.
$(CHROMIUM):
	@command -v apt-get >/dev/null || { echo "Chromium is missing at $(CHROMIUM) and there is no apt-get: install Chromium and set CHROMIUM=<its path>"; exit 1; }
	@if [ "$$(id -u)" = 0 ]; then sudo=; elif command -v sudo >/dev/null; then sudo=sudo; else \
	  echo "Chromium is missing at $(CHROMIUM); installing it needs root and there is no sudo: run 'apt-get install chromium' as root"; exit 1; fi; \
	  echo "installing Chromium with apt-get…"; \
	  $$sudo apt-get update -qq && $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium
	@test -x $(CHROMIUM) || { echo "apt-get installed chromium but $(CHROMIUM) is not there: set CHROMIUM=<its path>"; exit 1; }

$(BIN)/staticcheck:
	@mkdir -p $(BIN)
	GOBIN=$(BIN) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

$(VENV)/.installed: infra/local/requirements.txt
	@test -x $(VENV)/bin/python3 || python3 -m venv $(VENV)
	$(VENV)/bin/$(PIP_INSTALL) -r infra/local/requirements.txt
	touch $@

$(LINT_VENV)/.installed: infra/local/requirements-lint.txt
	@test -x $(LINT_VENV)/bin/python3 || python3 -m venv $(LINT_VENV)
	$(LINT_VENV)/bin/$(PIP_INSTALL) -r infra/local/requirements-lint.txt
	touch $@

$(CHECKOV_VENV)/.installed: infra/local/requirements-checkov.txt
	@test -x $(CHECKOV_VENV)/bin/python3 || python3 -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/$(PIP_INSTALL) -r infra/local/requirements-checkov.txt
	touch $@

localstack:
	@$(GO) build -o $(LOCAL) ./infra/local/cmd/localstack

console: $(CONSOLE)/dist/index.html ## build the operator console (web/console → web/console/dist)

# npm ci: exactly the lock file's packages, Node.js from .tools (on PATH above). The build type-checks
# first and writes dist/ only when that passes; a failed build leaves no newer index.html behind.
$(CONSOLE)/dist/index.html: $(NODE_DIR)/.installed $(CONSOLE_INPUTS)
	cd $(CONSOLE) && npm ci --silent --no-audit --no-fund && npm run build

dev: tools localstack console ## run the whole system locally (moto, stripe-mock, mailpit, the gateway; URLs below); Ctrl-C stops it
	@$(LOCAL) dev

test: tools localstack console ## every test (unit, console, integration, end to end, browser, contract fuzzing, CDK), with total coverage
	@$(LOCAL) test

# make test fuzzes with 25 examples per operation and phase; make fuzz alone goes deeper by default.
fuzz: tools ## contract fuzzing alone: schemathesis over docs/openapi.yaml through the local gateway [FUZZ_EXAMPLES=100] [FUZZ_SEED=]
	@FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-100} $(GO) test -count=1 -tags integration -timeout 20m -run '^TestContractFuzz$$' ./infra/local/e2e/; status=$$?; \
	  if [ -f .local/fuzz/schemathesis.txt ]; then sed -n '/= SUMMARY =/,$$p' .local/fuzz/schemathesis.txt; \
	  echo "(whole run: .local/fuzz/schemathesis.txt)"; fi; exit $$status

# token, trigger and job are for people at a terminal: the command prints what went wrong and make
# itself does not fail on top of it (a failing recipe always adds make's own "*** Error" line).
# Scripts that need the exit status run $(LOCAL) or `go run ./infra/local/cmd/localstack` directly.
token: localstack ## print a local bearer token: make -s token SUB=u1 [EMAIL=a@b.c] [GROUPS=admin,instructor]
	@$(LOCAL) token -sub "$(SUB)" -email "$(EMAIL)" -groups "$(GROUPS)" || true

# SUB, not USER: USER is the shell's login name and would silently become the event's user.
trigger: localstack ## send a signed Stripe event to make dev's webhook: make trigger EVENT=invoice.paid SUB=u1 [TIER=pro] [AMOUNT=1900] [ARGS=...]
	@$(LOCAL) trigger -event "$(EVENT)" -user "$(SUB)" $(if $(TIER),-tier "$(TIER)") $(if $(AMOUNT),-amount "$(AMOUNT)") $(ARGS) || true

job: localstack ## run a scheduled job now against make dev and print its report: make job NAME=billing-cycle [DAY=yyyy-mm-dd: reconcile's day] [DRY_RUN=1 RESTART=1: backfill-journal]
	@$(LOCAL) job -name "$(NAME)" -day "$(DAY)" $(if $(DRY_RUN),-dry-run) $(if $(RESTART),-restart) || true

migrate: localstack ## apply the table's pending data migrations on make dev and print the report: make migrate [DRY_RUN=1: count per migration, change nothing]
	@$(LOCAL) job -name migrate $(if $(DRY_RUN),-dry-run)

seed: ## load a demo marketplace (instructors, 50 courses, learners, purchases, reviews), the console's data and 90 days of metrics history into make dev; idempotent
	@$(LOCAL) seed

emit: ## put a learning event or a fact on make dev's queue: make emit EVENT=lesson.completed SUB=u1 COURSE=c1 [LESSON=l1] [ID=evt-1] [ARGS=...]
	@$(LOCAL) emit -event "$(EVENT)" -user "$(SUB)" $(if $(COURSE),-course "$(COURSE)") $(if $(LESSON),-lesson "$(LESSON)") $(if $(ID),-id "$(ID)") $(ARGS)

restore-drill: localstack ## rehearse a restore on make dev: export the table, restore it into a new table, verify every invariant and count; exit 1 on a difference
	@$(LOCAL) restore-drill $(if $(TARGET),-target "$(TARGET)")

# smoke: against any deployed stack (and make dev). Settings reach the program through the environment
# (make exports command-line variables), so secrets never appear in its arguments. The program exits
# 1 when a check failed and 2 without API; make itself then reports its own status 2 — scripts that
# need the program's own status run .local/bin/smoke (or go run ./infra/smoke/cmd/smoke) directly.
smoke: ## safe end-to-end check of a deployed stack, pass/fail table: make smoke API=<url> [TOKEN=] [WEBHOOK_URL=] [WEBHOOK_SECRET=] [STRIPE_KEY=sk_test_] [APP_URL=]
	@$(GO) build -o $(CURDIR)/.local/bin/smoke ./infra/smoke/cmd/smoke && $(CURDIR)/.local/bin/smoke

generate: ## write functions/*/main.go, the registry and template.yaml from the manifest (commit the result)
	$(GO) generate ./shared/manifest

build: ## build every function as linux/arm64 bootstrap under build/<name>/
	@for f in $(FUNCTIONS); do \
	  GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build -trimpath -tags lambda.norpc -ldflags "-s -w" \
	    -o $(BUILD_DIR)/$$f/bootstrap ./functions/$$f || exit 1; \
	done; echo "built $(words $(FUNCTIONS)) functions into $(BUILD_DIR)/"

synth: build $(NODE_DIR)/.installed console ## synthesize the CDK stack into infra/cdk/cdk.out
	cd infra/cdk && npm ci --silent && npx cdk synth --quiet

lint: lint-tools $(BIN)/staticcheck synth ## go vet, staticcheck, gofmt, sam validate --lint, cfn-lint and checkov on both templates
	$(GO) vet ./...
	$(GO) vet -tags integration ./...
	$(BIN)/staticcheck -tags integration ./...
	@gofiles=$$(find shared functions infra -name '*.go' -not -path '*/node_modules/*'); \
	  test -z "$$(gofmt -l $$gofiles)" || (gofmt -l $$gofiles; exit 1)
	$(LINT_VENV)/bin/sam validate --lint --region us-east-1 -t template.yaml
	cd infra/cdk && $(GO) vet ./...
	@# W3005: CDK emits DependsOn on a function's role next to the GetAtt of it (harmless, by design)
	@if [ -d infra/cdk/cdk.out ]; then $(LINT_VENV)/bin/cfn-lint --ignore-checks W3005 -- infra/cdk/cdk.out/*.template.json; \
	  else echo "run 'make synth' to cfn-lint the CDK template"; fi
	@# IaC scanner: fails on any finding not suppressed next to its resource with a reason
	@# (Metadata.checkov.skip; shared/manifest/scan.go, decision 0078). Never add --skip-check here.
	$(CHECKOV) -f template.yaml
	$(CHECKOV) -d infra/cdk/cdk.out

bench: tools ## run the benchmarks (micro, through the local gateway, cold-start init); see docs/performance.md
	$(GO) test -run '^$$' -bench . -benchmem ./shared/...
	$(GO) test -tags integration -run '^$$' -bench 'Gateway' -benchtime 200x ./infra/local/e2e/
	$(GO) test -tags integration -run '^$$' -bench 'WebhookWithItems' -benchtime 40x ./infra/local/e2e/
	$(GO) test -tags integration -run '^$$' -bench 'GlobalLeaderboard' -benchtime 20x -timeout 60m ./infra/local/e2e/
	$(GO) test -run '^$$' -bench 'TransactWriteItems/patch=on' -benchtime 30x ./infra/local/motoserver/
	$(GO) run ./infra/local/cmd/coldstart -rounds 30

fmt: ## gofmt everything
	gofmt -w shared functions $$(find infra -name '*.go' -not -path '*/node_modules/*')

clean-tools: ## remove the installed tools (the next `make tools` reinstalls the pinned versions)
	rm -rf $(BIN)/stripe-mock $(BIN)/mailpit $(BIN)/node $(TOOLS)/node-* $(VENV) $(LINT_VENV) $(CHECKOV_VENV)

clean: ## remove build outputs and local state (not the installed tools)
	rm -rf $(BUILD_DIR) .aws-sam .local infra/cdk/cdk.out coverage.out $(CONSOLE)/dist
