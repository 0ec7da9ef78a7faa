// A filter form: fields, then an "Apply" button; the page keeps the applied values (a new value
// set makes a new fetcher, which starts the list from its first page).
import type { ComponentChildren } from 'preact';

export function FilterForm({ label, onApply, children, applyLabel = 'Apply filters' }: {
  label: string;
  onApply: () => void;
  children: ComponentChildren;
  applyLabel?: string;
}) {
  return (
    <form
      class="card filters"
      aria-label={label}
      onSubmit={(e) => {
        e.preventDefault();
        onApply();
      }}
    >
      <div class="form-row">
        {children}
        <div class="field-button">
          <button type="submit" class="primary">
            {applyLabel}
          </button>
        </div>
      </div>
    </form>
  );
}
