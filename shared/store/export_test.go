package store

// SetAuditShard fixes the shard audit records join (to force head races in tests); it returns the
// function that restores the random choice.
func SetAuditShard(f func() int) (restore func()) {
	old := auditShard
	auditShard = f
	return func() { auditShard = old }
}
