// A headline tile. data-metric names the dotted path in the API document it shows and
// data-value holds the raw JSON value, so tests compare the tile with the API directly.
import { dataValue, formatBasisPoints, formatCount, formatMoney, formatPercent, lookup } from './format';

export type MetricKind = 'money' | 'count' | 'bp' | 'percent';

export interface MetricProps {
  label: string;
  /** The document the value comes from (e.g. GET /admin/metrics). */
  doc: unknown;
  /** Dotted path in doc, also the data-metric hook. */
  path: string;
  kind: MetricKind;
  currency?: string;
  /** Optional line under the value ("target ≥ 99.90%"). */
  note?: string | undefined;
  /** Marks the value as off target (shown, not only by colour). */
  warn?: boolean;
  /** The data-metric hook's name (default: path); null omits the hooks (a document other than GET /admin/metrics). */
  metricName?: string | null;
}

export function formatKind(v: unknown, kind: MetricKind, currency = 'usd'): string {
  const n = typeof v === 'number' ? v : null;
  switch (kind) {
    case 'money':
      return formatMoney(n, currency);
    case 'count':
      return formatCount(n);
    case 'bp':
      return formatBasisPoints(n);
    case 'percent':
      return formatPercent(n);
  }
}

export function Metric({ label, doc, path, kind, currency, note, warn, metricName }: MetricProps) {
  const v = lookup(doc, path);
  return (
    <div class={`tile${warn ? ' tile-warn' : ''}`}>
      <dt>{label}</dt>
      <dd>
        <span
          class="tile-value"
          data-metric={metricName === null ? undefined : (metricName ?? path)}
          data-value={metricName === null ? undefined : dataValue(v)}
        >
          {formatKind(v, kind, currency)}
        </span>
        {warn ? <span class="tile-flag"> (off target)</span> : null}
        {note ? <span class="tile-note">{note}</span> : null}
      </dd>
    </div>
  );
}

export function Tiles({ label, children }: { label: string; children: preact.ComponentChildren }) {
  return (
    <section class="tiles-section" aria-label={label}>
      <h2>{label}</h2>
      <dl class="tiles">{children}</dl>
    </section>
  );
}
