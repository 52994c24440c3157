/**
 * Numeric command-line flags, checked once: citty hands every flag over as a
 * string, and `Number("abc")` is NaN, which would travel on into a seed, a
 * price or a count and fail far away (or not at all). A bad value is refused
 * here with the flag's name. Pure; throws an Error the CLI prints.
 */
export interface NumberFlagRule {
  integer?: boolean;
  min?: number;
  max?: number;
}

export function numberFlag(flag: string, raw: string, rule: NumberFlagRule = {}): number {
  const x = raw.trim() === "" ? NaN : Number(raw);
  const kind = rule.integer ? "an integer" : "a number";
  const range = rule.min !== undefined && rule.max !== undefined ? ` in [${rule.min}, ${rule.max}]` : rule.min !== undefined ? ` ≥ ${rule.min}` : rule.max !== undefined ? ` ≤ ${rule.max}` : "";
  const ok = Number.isFinite(x) && (!rule.integer || Number.isInteger(x)) && (rule.min === undefined || x >= rule.min) && (rule.max === undefined || x <= rule.max);
  if (!ok) throw new Error(`--${flag} must be ${kind}${range}, got "${raw}"`);
  return x;
}

/** An optional numeric flag: undefined (or empty) stays undefined, so the stage's default applies; anything else is checked. */
export function optionalNumberFlag(flag: string, raw: string | undefined, rule: NumberFlagRule = {}): number | undefined {
  return raw === undefined || raw === "" ? undefined : numberFlag(flag, raw, rule);
}
