// #/payments (admin): a user's payments (GET /admin/users/{userId}/payments, paged) and a refund
// of one (POST /admin/refunds with an Idempotency-Key, after a confirmation).
import { useMemo, useRef, useState } from 'preact/hooks';
import { newIdempotencyKey, paged, post, seg } from '../api';
import { ApiErrorAlert } from '../components/ApiErrorAlert';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { FormRow, SelectField, StatusMessage, TextField } from '../components/Field';
import { formatMoney } from '../components/format';
import { PagedTable, type Column } from '../components/PagedTable';
import { DateTime, Money } from '../components/Values';
import { usePaged } from '../hooks';
import type { Payment, Refund, RefundReason } from '../types';
import { fractionDigits, parseAmount } from '../money';
import type { PageProps } from './registry';

const REASONS: { value: RefundReason; label: string }[] = [
  { value: 'requested_by_customer', label: 'Requested by customer' },
  { value: 'duplicate', label: 'Duplicate' },
  { value: 'fraudulent', label: 'Fraudulent' },
];

function refundable(p: Payment): number {
  return Math.max(0, p.amountCents - p.refundedCents);
}

interface Attempt {
  paymentId: string;
  amountCents: number | null;
  reason: RefundReason;
  /** One key per confirmed refund: a retry of the same refund sends it again, so it is never made twice. */
  key: string;
}

export function PaymentsPage({ route }: PageProps) {
  const [userText, setUserText] = useState(route.params.get('user') ?? '');
  const [userId, setUserId] = useState(route.params.get('user') ?? '');
  const fetcher = useMemo(() => (userId ? paged<Payment>(`/admin/users/${seg(userId)}/payments`, 'payments') : null), [userId]);
  const list = usePaged(fetcher);

  const [selected, setSelected] = useState<Payment | null>(null);
  const [amount, setAmount] = useState('');
  const [reason, setReason] = useState<RefundReason>('requested_by_customer');
  const [formError, setFormError] = useState<unknown>(null);
  const [confirming, setConfirming] = useState(false);
  const [attempt, setAttempt] = useState<Attempt | null>(null);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<Refund | null>(null);
  const formRef = useRef<HTMLFormElement>(null);

  const choose = (p: Payment) => {
    setSelected(p);
    setAmount('');
    setReason('requested_by_customer');
    setFormError(null);
    setResult(null);
    setAttempt(null);
    // Move focus into the refund form once it is rendered.
    setTimeout(() => formRef.current?.querySelector('input')?.focus(), 0);
  };

  const columns: Column<Payment>[] = [
    { header: 'Date', cell: (p) => <DateTime iso={p.createdAt} /> },
    { header: 'Payment', cell: (p) => <span class="mono">{p.id}</span> },
    { header: 'Description', cell: (p) => p.description },
    { header: 'Kind', cell: (p) => p.kind },
    { header: 'Amount', className: 'num', cell: (p) => <Money cents={p.amountCents} currency={p.currency} /> },
    { header: 'Refunded', className: 'num', cell: (p) => <Money cents={p.refundedCents} currency={p.currency} /> },
    { header: 'Status', cell: (p) => <span class="badge">{p.status.replace(/_/g, ' ')}{p.disputed ? ', disputed' : ''}</span> },
    {
      header: 'Action',
      cell: (p) => (
        <button type="button" aria-label={`Refund ${p.id}`} disabled={refundable(p) === 0} onClick={() => choose(p)}>
          Refund
        </button>
      ),
    },
  ];

  const amountCents = parseAmount(amount, fractionDigits(selected?.currency ?? 'usd'));

  const review = (e: Event) => {
    e.preventDefault();
    setFormError(null);
    if (amountCents === 'invalid') {
      setFormError(new Error('Enter the amount as a number like 12.50, or leave it empty to refund the rest.'));
      return;
    }
    setConfirming(true);
  };

  const confirm = async () => {
    if (!selected || amountCents === 'invalid') return;
    setConfirming(false);
    const same = attempt && attempt.paymentId === selected.id && attempt.amountCents === amountCents && attempt.reason === reason;
    const a: Attempt = same ? attempt : { paymentId: selected.id, amountCents, reason, key: newIdempotencyKey() };
    setAttempt(a);
    setBusy(true);
    setFormError(null);
    setResult(null);
    try {
      const body: { paymentId: string; reason: RefundReason; amountCents?: number } = { paymentId: a.paymentId, reason: a.reason };
      if (a.amountCents !== null) body.amountCents = a.amountCents;
      const res = await post<{ refund: Refund; payment: Payment }>('/admin/refunds', body, a.key);
      setResult(res.refund);
      setSelected(res.payment);
      setAttempt(null); // done: the next refund is a new operation with a new key
      list.update((items) => items.map((p) => (p.id === res.payment.id ? res.payment : p)));
    } catch (err) {
      setFormError(err); // the key stays: submitting the same refund again retries it
    } finally {
      setBusy(false);
    }
  };

  const cur = selected?.currency ?? 'usd';
  const retrying = !!attempt && !!selected && attempt.paymentId === selected.id && attempt.amountCents === amountCents && attempt.reason === reason;
  const what = amountCents === null || amountCents === 'invalid'
    ? `the rest (${formatMoney(selected ? refundable(selected) : 0, cur)})`
    : formatMoney(amountCents, cur);

  return (
    <>
      <h1>Payments</h1>
      <form
        class="card"
        role="search"
        aria-label="Find a user's payments"
        onSubmit={(e) => {
          e.preventDefault();
          const u = userText.trim();
          setSelected(null);
          setResult(null);
          if (u === userId) list.reload();
          else setUserId(u);
        }}
      >
        <FormRow>
          <TextField label="User id" name="userId" required value={userText} onInput={setUserText} />
          <div class="field-button">
            <button type="submit" class="primary">
              Find payments
            </button>
          </div>
        </FormRow>
      </form>
      {userId ? (
        <PagedTable
          caption={`Payments of ${userId}, newest first`}
          columns={columns}
          paged={list}
          rowKey={(p) => p.id}
          empty="This user has no payments."
        />
      ) : null}

      {selected ? (
        <form class="card" ref={formRef} onSubmit={review} aria-labelledby="refund-title">
          <h2 id="refund-title">Refund payment {selected.id}</h2>
          <p>
            Paid <Money cents={selected.amountCents} currency={cur} />, refunded so far{' '}
            <Money cents={selected.refundedCents} currency={cur} />; refundable{' '}
            <Money cents={refundable(selected)} currency={cur} />.
          </p>
          <FormRow>
            <TextField
              label={`Amount (${cur.toUpperCase()}, optional)`}
              name="amount"
              hint="Leave empty to refund everything still refundable."
              inputMode="decimal"
              value={amount}
              onInput={setAmount}
            />
            <SelectField
              label="Reason"
              name="reason"
              value={reason}
              onChange={(v) => setReason(v as RefundReason)}
              options={REASONS}
            />
          </FormRow>
          <ApiErrorAlert error={formError} focus />
          <div class="actions">
            <button type="button" onClick={() => setSelected(null)}>
              Close
            </button>
            <button type="submit" class="danger" disabled={busy}>
              {busy ? 'Refunding…' : retrying ? 'Retry refund' : 'Review refund'}
            </button>
          </div>
        </form>
      ) : null}

      <StatusMessage>
        {result ? (
          <>
            Refund <span class="mono">{result.id}</span> of payment <span class="mono">{result.paymentId}</span>: status{' '}
            <strong>{result.status}</strong>, amount <Money cents={result.amountCents} currency={result.currency} />.
          </>
        ) : null}
      </StatusMessage>

      <ConfirmDialog
        open={confirming}
        title="Refund this payment?"
        confirmLabel="Refund"
        danger
        onConfirm={() => void confirm()}
        onCancel={() => setConfirming(false)}
      >
        <p>
          Refund {what} of payment <span class="mono">{selected?.id}</span> to the customer, reason “
          {REASONS.find((r) => r.value === reason)?.label}”. This cannot be undone.
        </p>
      </ConfirmDialog>
    </>
  );
}
