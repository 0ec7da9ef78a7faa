// Parsing amounts typed by an operator (no imports: unit-tested with node --test).

/**
 * parseAmount reads "12.34" (major units) as an integer of minor units for a currency with
 * `digits` fraction digits (2 for usd, 0 for jpy); "" is null (= the whole remainder). It does not
 * cap the amount: the API decides what is refundable and says why not.
 */
export function parseAmount(text: string, digits = 2): number | null | 'invalid' {
  const t = text.trim();
  if (t === '') return null;
  const frac = digits > 0 ? `(?:\\.(\\d{1,${digits}}))?` : '';
  const m = new RegExp(`^(\\d{1,9})${frac}$`).exec(t);
  if (!m) return 'invalid';
  const minor = Number(m[1]) * 10 ** digits + Number((m[2] ?? '').padEnd(digits, '0') || '0');
  return minor > 0 ? minor : 'invalid';
}

/** fractionDigits is how many minor-unit digits a currency has (Intl's answer; usd 2, jpy 0). */
export function fractionDigits(currency: string): number {
  try {
    return new Intl.NumberFormat('en-US', { style: 'currency', currency: currency.toUpperCase() }).resolvedOptions()
      .maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
}
