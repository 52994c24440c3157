/**
 * Expected output length at serve time: the prompt-family rule and the lookup
 * of a model's expected output tokens from the bundle's `output_length` table
 * (per model, optionally per prompt family). Pure: the worker and the
 * pipeline's evaluator call the same functions, so the estimate measured on
 * test is the one served. Must not fit anything (scripts/stages/output-length.ts
 * fits and chooses on validation).
 */
import { z } from "zod";

/**
 * Prompt families a bundle may hold output lengths for. Computed from the
 * prompt text alone by `promptFamily`, so the worker can serve them.
 */
export const PromptFamily = z.enum(["multiple-choice", "code", "math", "other"]);
export type PromptFamily = z.infer<typeof PromptFamily>;

/** Name of the rule below; a bundle records it so a changed rule cannot silently reuse old tables. */
export const FAMILY_RULE = "prompt-family-v1";

// Two or more option lines "A." / "(B)" / "C)" / "D:" at line starts: MMLU-style lists.
const OPTION_LINE = /^[ \t]*\(?[A-Ea-e][.):][ \t]/gm;
const CODE =
  /```|^[ \t]*(def|class|import|from|function|#include|public|const|let|var|SELECT)\b|\b(python|javascript|typescript|java|c\+\+|c#|golang|rust|sql|regex|html|css|bash|shell script|function|code|script|program|compile|api|json)\b/im;
const MATH =
  /\\(frac|sqrt|boxed|int|sum)|\$[^$\n]{1,80}\$|\d\s*[-+*/×÷^=<>]\s*\d|\$\d|\d%|\b(how many|how much|how (long|far|old|fast|tall|heavy)|in total|on average|calculate|compute|solve|equation|integer|probability|percent|sum of|product of|prove|find the value)\b/i;

/**
 * The family of a prompt, first match wins: multiple-choice (≥ 2 option
 * lines), code (a fence, a code-looking line start or a programming word),
 * math (LaTeX, inline `$…$`, arithmetic between digits or a maths phrase),
 * else other. A rough rule: documented in docs/pipeline.md with its
 * confusion on the public sources.
 */
export function promptFamily(text: string): PromptFamily {
  const options = text.match(OPTION_LINE);
  if (options !== null && options.length >= 2) return "multiple-choice";
  if (CODE.test(text)) return "code";
  if (MATH.test(text)) return "math";
  return "other";
}

/** Per-prompt length: tokens = expm1(a + b·log1p(input tokens)), clamped to [lo, hi] (the model's 1st–99th percentile on the fit rows). */
export const LogLinear = z.object({ a: z.number().finite(), b: z.number().finite(), lo: z.number().min(0), hi: z.number().min(0) });
export type LogLinear = z.infer<typeof LogLinear>;

/** The per-prompt rule in words, for /v1/models. */
export function describeLogLinear(l: LogLinear): string {
  return `round(expm1(${l.a.toFixed(4)} + ${l.b.toFixed(4)} × log1p(input_tokens))), clamped to [${l.lo}, ${l.hi}]`;
}

/** The manifest's output_length block, as far as serving needs it. */
export interface OutputLengthTable {
  tokens: Record<string, number>;
  family_rule?: string;
  by_family?: Partial<Record<PromptFamily, Record<string, number>>>;
  loglinear?: Record<string, LogLinear>;
}

/** One model's slice of the table, as the worker's runtime pool holds it. */
export interface ModelLength {
  by_family?: Partial<Record<PromptFamily, number>>;
  loglinear?: LogLinear;
}

/** One model's per-family figures and per-prompt fit; undefined when the table has neither (or a family table of another rule). */
export function modelLengthOf(table: OutputLengthTable | undefined, model: string): ModelLength | undefined {
  const out: ModelLength = {};
  if (table?.by_family && table.family_rule === FAMILY_RULE) {
    const fam: Partial<Record<PromptFamily, number>> = {};
    for (const f of PromptFamily.options) {
      const t = table.by_family[f]?.[model];
      if (t !== undefined) fam[f] = t;
    }
    if (Object.keys(fam).length > 0) out.by_family = fam;
  }
  const ll = table?.loglinear?.[model];
  if (ll) out.loglinear = ll;
  return out.by_family || out.loglinear ? out : undefined;
}

/** Expected output tokens from a model's slice: the per-prompt fit, else its family's figure, else `fallback`. */
export function tokensFor(ml: ModelLength | undefined, family: PromptFamily | undefined, inputTokens: number, fallback: number): number {
  if (ml?.loglinear) {
    const { a, b, lo, hi } = ml.loglinear;
    return Math.round(Math.min(hi, Math.max(lo, Math.expm1(a + b * Math.log1p(inputTokens)))));
  }
  return (family !== undefined ? ml?.by_family?.[family] : undefined) ?? fallback;
}

/**
 * What the worker quotes for `model` on a prompt: per-prompt fit, else the
 * family's figure, else the per-model figure, else `fallback` (the pool's
 * default_output_tokens). The evaluator measures exactly this.
 */
export function expectedOutputTokens(
  table: OutputLengthTable | undefined,
  model: string,
  family: PromptFamily | undefined,
  inputTokens: number,
  fallback: number,
): number {
  return tokensFor(modelLengthOf(table, model), family, inputTokens, table?.tokens[model] ?? fallback);
}
