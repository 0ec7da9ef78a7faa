// A horizontally scrollable box for a wide table. It is focusable (tabIndex 0) and named, so a
// keyboard user can scroll it (axe: scrollable-region-focusable).
import type { ComponentChildren } from 'preact';

export function TableWrap({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    <div class="table-wrap" role="region" aria-label={label} tabIndex={0}>
      {children}
    </div>
  );
}
