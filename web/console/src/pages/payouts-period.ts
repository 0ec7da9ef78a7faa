// Payout periods (pure, unit-tested by `npm test`): a calendar month "YYYY-MM" in UTC, as the API's
// `Period` schema and its payout runs count them.

export const PERIOD = /^\d{4}-(0[1-9]|1[0-2])$/;

/** The calendar month of `now` in UTC. */
export function currentPeriod(now = new Date()): string {
  return `${now.getUTCFullYear()}-${String(now.getUTCMonth() + 1).padStart(2, '0')}`;
}
