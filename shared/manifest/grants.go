package manifest

// UnexercisedGrants is the allow-list of the grant-vs-use check (infra/local/iamcheck.Unused,
// docs/decisions/0076): grants the end-to-end suite cannot exercise, each keyed as
// "<function> <action> <resource template>" ("*" for every function holding the grant) with the
// reason it is kept. Every other grant that no test's call uses is a failure: remove it from the
// function's entry, or add the test that takes its path, instead of adding it here.
var UnexercisedGrants = map[string]string{
	"* ses:SendEmail arn:${Partition}:ses:${Region}:${Account}:identity/${MailFromDomain}": "SES authorises a " +
		"send against the identity the From address is verified under: the address if verified itself, " +
		"else its domain. Locally the address is the verified identity (the SES bridge), so only the " +
		"address grant is exercised; which one AWS uses depends on how the operator verified the sender.",
}
