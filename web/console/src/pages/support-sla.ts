// The SLA clocks' rules (pure: no DOM, no imports, unit-tested by `npm test`): what a ticket's
// target says at a given instant — "1 h 12 min left", "breached 5 min ago", "met", "paused, …".

/** A ticket's target as GET /support/queue and GET /support/tickets/{id} give it (SLATarget). */
export interface SLATarget {
  status: 'none' | 'running' | 'paused' | 'met' | 'breached';
  targetMinutes: number;
  elapsedMinutes: number;
  dueAt: string | null;
}

export type ClockState = 'none' | 'met' | 'paused' | 'running' | 'soon' | 'breached';

export interface ClockReading {
  text: string;
  /** 'soon' = under an hour left (styled as a warning; the text says it anyway). */
  state: ClockState;
  /** Whole seconds to the due time, negative once past it; null without a due time. */
  secondsLeft: number | null;
}

/** span words a duration (sign ignored): "45 s", "12 min", "1 h 12 min", "2 d 3 h". */
export function span(ms: number): string {
  const s = Math.floor(Math.abs(ms) / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  const mm = m % 60;
  if (h < 24) return mm ? `${h} h ${mm} min` : `${h} h`;
  const d = Math.floor(h / 24);
  const hh = h % 24;
  return hh ? `${d} d ${hh} h` : `${d} d`;
}

/**
 * clock is what a target's clock says at `now` (epoch ms). A running target counts down to its
 * dueAt and reads "breached … ago" once past it, even before the server's next check marks it
 * breached; without a dueAt it falls back to target − elapsed minutes (static).
 */
export function clock(t: SLATarget, now: number): ClockReading {
  const due = t.dueAt ? Date.parse(t.dueAt) : NaN;
  const left = Number.isNaN(due) ? null : due - now;
  const secondsLeft = left === null ? null : Math.trunc(left / 1000);
  switch (t.status) {
    case 'none':
      return { text: 'no target', state: 'none', secondsLeft: null };
    case 'met':
      return { text: 'met', state: 'met', secondsLeft: null };
    case 'paused':
      return { text: `paused, ${span(t.elapsedMinutes * 60_000)} of ${span(t.targetMinutes * 60_000)} used`, state: 'paused', secondsLeft: null };
    case 'breached':
      return { text: left === null ? 'breached' : `breached ${span(Math.min(left, 0))} ago`, state: 'breached', secondsLeft };
    case 'running': {
      if (left === null) {
        const rest = (t.targetMinutes - t.elapsedMinutes) * 60_000;
        return rest > 0
          ? { text: `${span(rest)} left`, state: 'running', secondsLeft: null }
          : { text: 'breached', state: 'breached', secondsLeft: null };
      }
      if (left <= 0) return { text: `breached ${span(left)} ago`, state: 'breached', secondsLeft };
      return { text: `${span(left)} left`, state: left < 3_600_000 ? 'soon' : 'running', secondsLeft };
    }
  }
}
