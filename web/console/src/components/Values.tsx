// Inline value formatters (see format.ts for the rules).
import { formatBasisPoints, formatCount, formatDateTime, formatMoney, formatPercent } from './format';

export function Money({ cents, currency }: { cents: number | null | undefined; currency: string }) {
  return <span class="num">{formatMoney(cents, currency)}</span>;
}

export function Count({ n }: { n: number | null | undefined }) {
  return <span class="num">{formatCount(n)}</span>;
}

export function Percent({ bp, percent }: { bp?: number | null | undefined; percent?: number | null | undefined }) {
  return <span class="num">{bp !== undefined ? formatBasisPoints(bp) : formatPercent(percent)}</span>;
}

export function DateTime({ iso }: { iso: string | null | undefined }) {
  return iso ? <time dateTime={iso}>{formatDateTime(iso)}</time> : <span>—</span>;
}
