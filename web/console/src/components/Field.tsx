// Labelled form controls: the <label> wraps its control, so every field has an accessible name.
import type { ComponentChildren } from 'preact';

interface Common {
  label: string;
  hint?: string;
  name?: string;
  required?: boolean;
}

export function TextField({
  label, hint, name, required, value, onInput, type = 'text', placeholder, pattern, min, inputMode, autoComplete,
}: Common & {
  value: string;
  onInput: (v: string) => void;
  type?: 'text' | 'email' | 'number' | 'date' | 'month' | 'search' | 'datetime-local';
  placeholder?: string;
  pattern?: string;
  min?: string;
  inputMode?: 'text' | 'numeric' | 'decimal' | 'email';
  autoComplete?: string;
}) {
  return (
    <label class="field">
      <span class="field-label">{label}</span>
      <input
        // Preact 11 types narrow attributes by input type; every type used here takes the same ones.
        type={type as 'text'}
        name={name}
        value={value}
        required={required}
        placeholder={placeholder}
        pattern={pattern}
        min={min}
        inputMode={inputMode}
        autoComplete={autoComplete ?? 'off'}
        onInput={(e) => onInput((e.currentTarget as HTMLInputElement).value)}
      />
      {hint ? <span class="field-hint">{hint}</span> : null}
    </label>
  );
}

export function SelectField({
  label, hint, name, required, value, onChange, options,
}: Common & { value: string; onChange: (v: string) => void; options: { value: string; label: string }[] }) {
  return (
    <label class="field">
      <span class="field-label">{label}</span>
      <select name={name} value={value} required={required} onChange={(e) => onChange((e.currentTarget as HTMLSelectElement).value)}>
        {options.map((o) => (
          <option value={o.value} key={o.value}>
            {o.label}
          </option>
        ))}
      </select>
      {hint ? <span class="field-hint">{hint}</span> : null}
    </label>
  );
}

export function TextArea({
  label, hint, name, required, value, onInput, rows = 4, maxLength,
}: Common & { value: string; onInput: (v: string) => void; rows?: number; maxLength?: number }) {
  return (
    <label class="field">
      <span class="field-label">{label}</span>
      <textarea name={name} rows={rows} required={required} maxLength={maxLength} value={value}
        onInput={(e) => onInput((e.currentTarget as HTMLTextAreaElement).value)} />
      {hint ? <span class="field-hint">{hint}</span> : null}
    </label>
  );
}

/** Checkbox or radio choices in a fieldset with a legend. */
export function Choices({
  legend, type, name, options, selected, onChange,
}: {
  legend: string;
  type: 'checkbox' | 'radio';
  name: string;
  options: { value: string; label: string }[];
  selected: string[];
  onChange: (selected: string[]) => void;
}) {
  return (
    <fieldset class="choices">
      <legend>{legend}</legend>
      {options.map((o) => (
        <label class="choice" key={o.value}>
          <input
            // Preact 11 types narrow attributes by input type; every type used here takes the same ones.
        type={type as 'text'}
            name={name}
            value={o.value}
            checked={selected.includes(o.value)}
            onChange={(e) => {
              // Read the fieldset's checked boxes from the DOM: two quick changes in one render
              // would otherwise both start from the same stale `selected`.
              const fs = (e.currentTarget as HTMLInputElement).closest('fieldset');
              const checked = fs ? [...fs.querySelectorAll<HTMLInputElement>('input:checked')].map((i) => i.value) : [];
              onChange(checked);
            }}
          />
          {o.label}
        </label>
      ))}
    </fieldset>
  );
}

/** A form row: controls side by side at desktop width, stacked on a phone. */
export function FormRow({ children }: { children: ComponentChildren }) {
  return <div class="form-row">{children}</div>;
}

/** A polite live region for an action's result (role=status). */
export function StatusMessage({ children }: { children: ComponentChildren }) {
  return (
    <div role="status" class="status">
      {children}
    </div>
  );
}
