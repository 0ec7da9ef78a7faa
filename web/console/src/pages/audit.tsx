// #/audit (admin): GET /admin/audit with its filters (actor, target, action, from, to), paged.
import { useMemo, useState } from 'preact/hooks';
import { paged, type Query } from '../api';
import { TextField } from '../components/Field';
import { FilterForm } from '../components/FilterForm';
import { PagedTable, type Column } from '../components/PagedTable';
import { DateTime } from '../components/Values';
import { usePaged } from '../hooks';
import type { AuditRecord } from '../types';
import type { PageProps } from './registry';

const FILTERS = ['actor', 'target', 'action', 'from', 'to'] as const;
type Filters = Record<(typeof FILTERS)[number], string>;

const columns: Column<AuditRecord>[] = [
  { header: 'Time', cell: (r) => <DateTime iso={r.at} /> },
  { header: 'Actor', cell: (r) => <span class="mono">{r.actor}</span> },
  { header: 'Action', cell: (r) => r.action },
  { header: 'Target', cell: (r) => <span class="mono">{r.target}</span> },
  {
    header: 'Details',
    cell: (r) => {
      const d = Object.entries(r.details ?? {});
      return d.length ? (
        <ul class="kv">
          {d.map(([k, v]) => (
            <li key={k}>
              <span class="kv-key">{k}</span>: {v}
            </li>
          ))}
        </ul>
      ) : (
        '—'
      );
    },
  },
  { header: 'Request', cell: (r) => <span class="mono">{r.requestId}</span> },
];

export function AuditPage({ route }: PageProps) {
  const initial = Object.fromEntries(FILTERS.map((f) => [f, route.params.get(f) ?? ''])) as Filters;
  const [form, setForm] = useState<Filters>(initial);
  const [applied, setApplied] = useState<Filters>(initial);
  const fetcher = useMemo(() => paged<AuditRecord>('/admin/audit', 'records', { ...applied } as Query), [applied]);
  const list = usePaged(fetcher);
  const field = (k: keyof Filters) => (v: string) => setForm((f) => ({ ...f, [k]: v }));
  return (
    <>
      <h1>Audit</h1>
      <p class="note">
        Audit records, oldest first. Without dates the API answers the week up to the end of today (UTC); the range can span at
        most 92 days.
      </p>
      <FilterForm label="Filter audit records" onApply={() => setApplied({ ...form })}>
        <TextField label="Actor" name="actor" hint="A user id or system:…" value={form.actor} onInput={field('actor')} />
        <TextField label="Target" name="target" hint="e.g. payment:pay_123" value={form.target} onInput={field('target')} />
        <TextField label="Action" name="action" hint="e.g. refund.create" value={form.action} onInput={field('action')} />
        <TextField label="From" name="from" type="date" value={form.from} onInput={field('from')} />
        <TextField label="To (exclusive)" name="to" type="date" value={form.to} onInput={field('to')} />
      </FilterForm>
      <PagedTable caption="Audit records" columns={columns} paged={list} rowKey={(r) => r.id} empty="No audit records match." />
    </>
  );
}
