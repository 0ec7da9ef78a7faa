// Day ranges (no imports: unit-tested with node --test).

export const HISTORY_DAYS = 90;

export function isoDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}

/** The last HISTORY_DAYS UTC days, fixed once so every page of the cursor asks the same range. */
export function historyRange(now = new Date()): { from: string; to: string } {
  const to = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  const from = new Date(to.getTime() - (HISTORY_DAYS - 1) * 86_400_000);
  return { from: isoDay(from), to: isoDay(to) };
}
