// An action that moves money or state (engineer F2's pages: payouts, redemptions, licenses,
// support): asked → confirmed in a <ConfirmDialog> → run once with an Idempotency-Key → its result
// in a role=status region, or the API's error as worded, and focus moves to whichever it is.
//
// The key is kept while the same action (same route and body) is retried after a failure, so a
// retry of a confirmed action cannot do it twice (the API replays the stored answer, or runs it
// again after a 409/5xx which released the key). Any other action, or a success, gets a new key.
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { newIdempotencyKey } from '../api';
import { ApiErrorAlert } from './ApiErrorAlert';
import { RetryKeys } from './retry-keys';

export interface ConfirmedAction<A, R> {
  /** The action waiting for confirmation: the dialog is open while it is set. */
  asking: A | null;
  /** The action running now (buttons disable themselves meanwhile). */
  busy: boolean;
  /** The last successful run's answer and the action it answered. */
  result: { action: A; value: R } | null;
  /** The last failed run's error (an ApiError carries the API's own words). */
  error: unknown;
  /** Counts finished runs; the outcome region takes focus on each. */
  done: number;
  ask: (a: A) => void;
  /** Changes the asked action while the dialog is open (e.g. a reason typed into it). */
  edit: (a: A) => void;
  confirm: () => void;
  cancel: () => void;
}

export function useConfirmedAction<A, R>(
  run: (a: A, idempotencyKey: string) => Promise<R>,
  onSuccess?: (value: R, a: A) => void,
): ConfirmedAction<A, R> {
  const [asking, setAsking] = useState<A | null>(null);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ action: A; value: R } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState(0);
  const keys = useRef<RetryKeys | null>(null);
  keys.current ??= new RetryKeys(newIdempotencyKey);
  const alive = useRef(true);
  useEffect(() => {
    alive.current = true;
    return () => {
      alive.current = false;
    };
  }, []);

  const confirm = () => {
    const a = asking;
    if (a === null) return;
    setAsking(null);
    const key = keys.current!.keyFor(a);
    setBusy(true);
    setError(null);
    setResult(null);
    run(a, key).then(
      (value) => {
        keys.current?.succeeded();
        if (!alive.current) return;
        setResult({ action: a, value });
        setBusy(false);
        setDone((n) => n + 1);
        onSuccess?.(value, a);
      },
      (e: unknown) => {
        if (!alive.current) return;
        setError(e);
        setBusy(false);
        setDone((n) => n + 1);
      },
    );
  };

  return {
    asking,
    busy,
    result,
    error,
    done,
    ask: (a) => setAsking(a),
    edit: (a) => setAsking(a),
    confirm,
    cancel: () => setAsking(null),
  };
}

/**
 * ActionOutcome is the result region (always rendered, role=status, so screen readers announce
 * what fills it) and the error alert of a ConfirmedAction; after each run it takes focus.
 */
export function ActionOutcome<A, R>({ action, children }: { action: ConfirmedAction<A, R>; children?: ComponentChildren }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (action.done > 0 && !action.error && action.result) ref.current?.focus();
  }, [action.done]);
  return (
    <>
      <div role="status" class="status" tabIndex={-1} ref={ref}>
        {action.result && !action.error ? children : null}
      </div>
      <ApiErrorAlert error={action.error} focus />
    </>
  );
}
