//go:build integration

// Package browser tests the operator console (web/console) in a real browser: Debian's headless
// Chromium driven from Go with chromedp (docs/decisions/0098), against the local system of
// infra/local/e2e seeded by infra/local/seed, as `make test` runs it.
//
// One Chromium serves the whole package (TestMain); each test opens its own tab at a 1280×800 or
// 390×844 viewport. Screenshots go to <repo>/.local/artifacts/console/<name>.png and are checked
// to be non-blank; axe-core (web/console/node_modules/axe-core) checks accessibility. Without
// Chromium, a built console or axe-core the tests skip under a plain `go test` and fail under
// `make test` (localtest.StackEnv set), so CI cannot pass them by accident.
package browser
