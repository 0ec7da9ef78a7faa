// Which Idempotency-Key a confirmed action is sent with (pure, unit-tested by `npm test`): the
// same key while the same action (same route and body) is retried after a failure — the API then
// replays its stored answer, or runs it again when a 409/5xx released the key, so a retry never
// does it twice — and a new key for any other action or once it succeeded.

export class RetryKeys {
  private last: { sig: string; key: string } | null = null;
  private readonly mint: () => string;

  constructor(mint: () => string) {
    this.mint = mint;
  }

  /** keyFor is the key to send the action with now. */
  keyFor(action: unknown): string {
    const sig = JSON.stringify(action);
    if (this.last?.sig !== sig) this.last = { sig, key: this.mint() };
    return this.last.key;
  }

  /** succeeded forgets the key: doing the same again later is a new action. */
  succeeded(): void {
    this.last = null;
  }
}
