// SLA clocks of the support queue: a <time> per target whose text counts down every second
// ("1 h 12 min left", "breached 5 min ago"). One shared one-second ticker runs while at least one
// clock is on screen and stops when the last one goes (leaving the page unmounts them all).
import { useEffect, useState } from 'preact/hooks';
import { clock, type SLATarget } from './support-sla';

export type { SLATarget } from './support-sla';

const subscribers = new Set<(now: number) => void>();
let timer: ReturnType<typeof setInterval> | null = null;

function subscribe(f: (now: number) => void): () => void {
  subscribers.add(f);
  if (timer === null) {
    timer = setInterval(() => {
      const now = Date.now();
      for (const s of subscribers) s(now);
    }, 1000);
  }
  return () => {
    subscribers.delete(f);
    if (subscribers.size === 0 && timer !== null) {
      clearInterval(timer);
      timer = null;
    }
  };
}

/** useNow re-renders the caller every second with the current time (epoch ms). */
export function useNow(): number {
  const [now, setNow] = useState(Date.now);
  useEffect(() => subscribe(setNow), []);
  return now;
}

/**
 * SlaClock shows one target: its label and a <time datetime=dueAt> whose text is recomputed every
 * second. data-seconds-left (signed) lets a test see it count down.
 */
export function SlaClock({ label, target }: { label: string; target: SLATarget }) {
  const now = useNow();
  const c = clock(target, now);
  return (
    <span class={`sla-clock sla-${c.state}`}>
      <span class="sla-label">{label}: </span>
      <time
        dateTime={target.dueAt ?? undefined}
        data-sla={label}
        data-status={target.status}
        data-seconds-left={c.secondsLeft === null ? '' : String(c.secondsLeft)}
        title={target.dueAt ? `due ${new Date(target.dueAt).toUTCString()}` : undefined}
      >
        {c.text}
      </time>
    </span>
  );
}
