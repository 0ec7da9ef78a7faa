package manifest

// UnexercisedGrants is the allow-list of the grant-vs-use check (infra/local/iamcheck.Unused,
// docs/decisions/0076): grants the end-to-end suite cannot exercise, each keyed as
// "<function> <action> <resource template>" with the reason it is kept. Every other grant that no
// test's call uses is a failure: remove it from the function's entry instead of adding it here.
var UnexercisedGrants = map[string]string{
	// Empty until the suite's use log has been compared with every grant (see decision 0076,
	// "What remains"). SSM parameters are not compared (no local SSM call: iamcheck.GrantKeys).
}
