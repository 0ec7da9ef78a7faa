// #/redemptions (admin): token redemptions by status (GET /admin/redemptions, longest waiting first,
// cursor-paged) and their decisions — approve (coupons and credits are fulfilled at once), fulfil
// (merchandise by hand with a note, or a retry of a failed Stripe fulfilment), reject with a reason.
// Each decision is confirmed and sent with an Idempotency-Key; the answer replaces the row.
import type { ComponentChildren } from 'preact';
import { useMemo, useState } from 'preact/hooks';
import { paged, request, seg } from '../api';
import { ActionOutcome, useConfirmedAction } from '../components/ConfirmedAction';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { FormRow, SelectField, TextArea } from '../components/Field';
import { PagedTable, type Column } from '../components/PagedTable';
import { Count, DateTime } from '../components/Values';
import { usePaged } from '../hooks';
import type { PageProps } from './registry';
import '../components/daily-work.css';

type Status = 'pending' | 'approved' | 'fulfilled' | 'rejected' | 'cancelled';

interface Address {
  name: string;
  line1: string;
  line2?: string;
  city: string;
  state?: string;
  postalCode: string;
  country: string;
}

export interface Redemption {
  id: string;
  rewardId: string;
  rewardName: string;
  cost: number;
  fulfilment: 'stripe_coupon' | 'stripe_credit' | 'manual';
  status: Status;
  shippingAddress?: Address;
  couponCode?: string;
  reason?: string;
  note?: string;
  createdAt: string;
  updatedAt: string;
  fulfilledAt?: string;
  userId: string;
  decidedBy?: string;
  fulfilmentError?: string;
  fulfilmentAttempts: number;
  emailSent?: boolean;
}

type Decision =
  | { op: 'approve'; id: string; reward: string }
  | { op: 'fulfil'; id: string; reward: string; manual: boolean; note: string }
  | { op: 'reject'; id: string; reward: string; reason: string };

const STATUSES: { value: Status; label: string }[] = [
  { value: 'pending', label: 'Pending' },
  { value: 'approved', label: 'Approved' },
  { value: 'fulfilled', label: 'Fulfilled' },
  { value: 'rejected', label: 'Rejected' },
  { value: 'cancelled', label: 'Cancelled' },
];

const FULFILMENT: Record<Redemption['fulfilment'], string> = {
  stripe_coupon: 'Coupon',
  stripe_credit: 'Account credit',
  manual: 'Merchandise',
};

function decide(d: Decision, key: string): Promise<Redemption> {
  const path = `/admin/redemptions/${seg(d.id)}/${d.op}`;
  switch (d.op) {
    case 'approve':
      // The approve route takes no body.
      return request<Redemption>('POST', path, { idempotencyKey: key });
    case 'fulfil':
      return request<Redemption>('POST', path, { body: d.note.trim() ? { note: d.note.trim() } : {}, idempotencyKey: key });
    case 'reject':
      return request<Redemption>('POST', path, { body: { reason: d.reason }, idempotencyKey: key });
  }
}

function address(a: Address): string {
  return [a.name, a.line1, a.line2, `${a.postalCode} ${a.city}`, a.state, a.country].filter(Boolean).join(', ');
}

function details(r: Redemption) {
  const parts: ComponentChildren[] = [];
  if (r.couponCode) parts.push(<>Coupon <span class="mono">{r.couponCode}</span></>);
  if (r.fulfilmentError) parts.push(<span class="payout-failure">Fulfilment failed ({r.fulfilmentAttempts} attempts): {r.fulfilmentError}</span>);
  if (r.reason) parts.push(<>Reason: {r.reason}</>);
  if (r.note) parts.push(<>Note: {r.note}</>);
  if (r.shippingAddress) parts.push(<>Ship to: {address(r.shippingAddress)}</>);
  if (r.decidedBy) parts.push(<>Decided by <span class="mono">{r.decidedBy}</span></>);
  if (parts.length === 0) return '—';
  return (
    <ul class="plain">
      {parts.map((p, i) => (
        <li key={i}>{p}</li>
      ))}
    </ul>
  );
}

function verb(op: Decision['op']): string {
  return op === 'approve' ? 'approved' : op === 'fulfil' ? 'fulfilled' : 'rejected';
}

export function RedemptionsPage({ route }: PageProps) {
  const initial = (route.params.get('status') as Status | null) ?? 'pending';
  const [status, setStatus] = useState<Status>(STATUSES.some((s) => s.value === initial) ? initial : 'pending');
  const fetcher = useMemo(() => paged<Redemption>('/admin/redemptions', 'redemptions', { status }), [status]);
  const list = usePaged(fetcher);

  const action = useConfirmedAction<Decision, Redemption>(decide, (r) =>
    // The answer is the redemption after the decision: show it in place.
    list.update((items) => items.map((x) => (x.id === r.id ? r : x))),
  );

  const rowActions = (r: Redemption) => {
    const label = `${r.rewardName} for ${r.userId}`;
    const canApprove = r.status === 'pending';
    const canFulfil = r.status === 'approved';
    const canReject = r.status === 'pending' || r.status === 'approved';
    if (!canApprove && !canFulfil && !canReject) return '—';
    return (
      <div class="row-actions">
        {canApprove ? (
          <button type="button" disabled={action.busy} aria-label={`Approve ${label}`}
            onClick={() => action.ask({ op: 'approve', id: r.id, reward: label })}>
            Approve
          </button>
        ) : null}
        {canFulfil ? (
          <button type="button" disabled={action.busy} aria-label={`Fulfil ${label}`}
            onClick={() => action.ask({ op: 'fulfil', id: r.id, reward: label, manual: r.fulfilment === 'manual', note: '' })}>
            Fulfil
          </button>
        ) : null}
        {canReject ? (
          <button type="button" class="danger" disabled={action.busy} aria-label={`Reject ${label}`}
            onClick={() => action.ask({ op: 'reject', id: r.id, reward: label, reason: '' })}>
            Reject
          </button>
        ) : null}
      </div>
    );
  };

  const columns: Column<Redemption>[] = [
    { header: 'Reward', cell: (r) => <>{r.rewardName}<br /><span class="mono small">{r.id}</span></> },
    { header: 'User', cell: (r) => <span class="mono">{r.userId}</span> },
    { header: 'Tokens', className: 'num', cell: (r) => <Count n={r.cost} /> },
    { header: 'Fulfilment', cell: (r) => FULFILMENT[r.fulfilment] ?? r.fulfilment },
    { header: 'Status', cell: (r) => <span class={`badge badge-${r.status}`}>{r.status}</span> },
    { header: 'Requested', cell: (r) => <DateTime iso={r.createdAt} /> },
    { header: 'Details', cell: details },
    { header: 'Actions', cell: rowActions },
  ];

  const a = action.asking;
  const done = action.result;
  return (
    <>
      <h1>Redemptions</h1>
      <form class="card" aria-label="Filter redemptions" onSubmit={(e) => e.preventDefault()}>
        <FormRow>
          <SelectField label="Status" name="status" value={status} onChange={(v) => setStatus(v as Status)} options={STATUSES} />
        </FormRow>
      </form>

      <ActionOutcome action={action}>
        {done ? (
          <p>
            Redemption <span class="mono">{done.value.id}</span> ({done.action.reward}) is now{' '}
            <strong>{done.value.status}</strong>
            {done.value.status !== verb(done.action.op) && done.value.fulfilmentError
              ? ` — fulfilment failed: ${done.value.fulfilmentError}. Retry with Fulfil or reject it.`
              : ''}
            {done.value.couponCode ? <> — coupon <span class="mono">{done.value.couponCode}</span></> : null}.{' '}
            {done.value.emailSent === true ? 'The user was e-mailed.' : done.value.emailSent === false ? 'The e-mail to the user did not go out.' : ''}
          </p>
        ) : null}
      </ActionOutcome>

      <PagedTable
        caption={`Redemptions: ${status} (longest waiting first)`}
        columns={columns}
        paged={list}
        rowKey={(r) => r.id}
        empty={`No ${status} redemptions.`}
      />

      <ConfirmDialog
        open={a !== null}
        title={a ? `${a.op === 'approve' ? 'Approve' : a.op === 'fulfil' ? 'Fulfil' : 'Reject'} this redemption?` : ''}
        confirmLabel={a?.op === 'approve' ? 'Approve redemption' : a?.op === 'fulfil' ? 'Mark fulfilled' : 'Reject redemption'}
        danger={a?.op === 'reject'}
        onConfirm={action.confirm}
        onCancel={action.cancel}
      >
        {a ? <p>{a.reward}</p> : null}
        {a?.op === 'approve' ? (
          <p>Coupons and credits are created at Stripe at once and the held tokens are spent; the user is e-mailed.</p>
        ) : null}
        {a?.op === 'fulfil' ? (
          <>
            <p>{a.manual ? 'Marks the merchandise as sent; the note goes into the user’s e-mail.' : 'Retries the Stripe fulfilment.'} The held tokens are spent.</p>
            {a.manual ? (
              <TextArea label="Note (carrier and tracking number, optional)" name="note" rows={2} maxLength={500}
                value={a.note} onInput={(v) => action.edit({ ...a, note: v })} />
            ) : null}
          </>
        ) : null}
        {a?.op === 'reject' ? (
          <>
            <p>The held tokens become available again; the reason is e-mailed to the user.</p>
            <TextArea label="Reason (at least 3 characters)" name="reason" rows={2} maxLength={500} required
              value={a.reason} onInput={(v) => action.edit({ ...a, reason: v })} />
          </>
        ) : null}
      </ConfirmDialog>
    </>
  );
}
