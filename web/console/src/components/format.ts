// Display formats shared by every page (the browser tests format the same way in Go):
// money "$1,234.56" (Intl en-US, the response's currency), counts "1,234", basis points as a
// percent with two decimals "99.90%", null "—".

export const NULL_TEXT = '—';

const moneyFormats = new Map<string, Intl.NumberFormat>();

export function formatMoney(minor: number | null | undefined, currency: string): string {
  if (minor === null || minor === undefined) return NULL_TEXT;
  const cur = (currency || 'usd').toUpperCase();
  let f = moneyFormats.get(cur);
  if (!f) {
    f = new Intl.NumberFormat('en-US', { style: 'currency', currency: cur });
    moneyFormats.set(cur, f);
  }
  const digits = f.resolvedOptions().maximumFractionDigits ?? 2;
  return f.format(minor / 10 ** digits);
}

const countFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

export function formatCount(n: number | null | undefined): string {
  if (n === null || n === undefined) return NULL_TEXT;
  return countFormat.format(n);
}

const pctFormat = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** formatBasisPoints: 9990 → "99.90%". */
export function formatBasisPoints(bp: number | null | undefined): string {
  if (bp === null || bp === undefined) return NULL_TEXT;
  return `${pctFormat.format(bp / 100)}%`;
}

/** formatPercent: an already-percent number (e.g. SLA metPercent 97.5) → "97.50%". */
export function formatPercent(p: number | null | undefined): string {
  if (p === null || p === undefined) return NULL_TEXT;
  return `${pctFormat.format(p)}%`;
}

const dateTime = new Intl.DateTimeFormat('en-US', {
  year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', timeZone: 'UTC', timeZoneName: 'short',
});

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return NULL_TEXT;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : dateTime.format(d);
}

/** dataValue is the data-value hook: the raw JSON value, '' for null/absent. */
export function dataValue(v: unknown): string {
  if (v === null || v === undefined) return '';
  return JSON.stringify(v);
}

/** lookup reads a dotted path ("churn.rateBasisPoints") from a JSON document. */
export function lookup(doc: unknown, path: string): unknown {
  let cur: unknown = doc;
  for (const k of path.split('.')) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}
