/**
 * TF-IDF text baseline: word 1–2-gram and char 3–5-gram features with
 * vocabulary and idf fitted on training texts only, sparse L2-normalised rows,
 * and an L2 logistic regression whose C is chosen on validation log-loss.
 * It is the "is the probe better than surface text?" reference; it must not
 * see validation/test texts while fitting the vocabulary. Deterministic.
 * Length and majority baselines live in linear/baselines.ts (re-exported).
 */
import { fitPath } from "./linear/path.js";
import { CsrRows, type CsrMatrix } from "./linear/sparse.js";
import { sigmoid } from "./linear/logistic.js";

export { fitLengthBaseline, fitMajorityBaseline, predictScalar, logLength } from "./linear/baselines.js";

export interface TfidfOptions {
  minDf?: number;
  maxFeatures?: number;
  /** Char n-grams read only this many leading characters, bounding cost on very long prompts. */
  maxChars?: number;
}

const WORD = /[\p{L}\p{N}_]+/gu;

/** Term counts of one text: "w:" word 1–2-grams, "c:" char 3–5-grams. */
export function termCounts(text: string, maxChars = 4000): Map<string, number> {
  const counts = new Map<string, number>();
  const add = (t: string) => counts.set(t, (counts.get(t) ?? 0) + 1);
  const lower = text.toLowerCase();
  const words = lower.match(WORD) ?? [];
  for (let i = 0; i < words.length; i++) {
    add("w:" + words[i]);
    if (i + 1 < words.length) add("w:" + words[i] + " " + words[i + 1]);
  }
  const chars = " " + lower.slice(0, maxChars).replace(/\s+/g, " ").trim() + " ";
  for (let n = 3; n <= 5; n++) for (let i = 0; i + n <= chars.length; i++) add("c:" + chars.slice(i, i + n));
  return counts;
}

export class TfidfVectorizer {
  private constructor(
    readonly vocabulary: Map<string, number>,
    readonly idf: Float64Array,
    private readonly maxChars: number,
  ) {}

  get size(): number {
    return this.idf.length;
  }

  /**
   * Keeps terms in ≥ minDf training documents, then the maxFeatures most
   * frequent (ties broken by the term itself so the vocabulary is stable).
   * idf = ln((1 + N) / (1 + df)) + 1 (smoothed, never zero).
   */
  static fit(texts: string[], { minDf = 2, maxFeatures = 200_000, maxChars = 4000 }: TfidfOptions = {}): TfidfVectorizer {
    const df = new Map<string, number>();
    for (const t of texts) for (const term of termCounts(t, maxChars).keys()) df.set(term, (df.get(term) ?? 0) + 1);
    const kept = [...df].filter(([, c]) => c >= minDf);
    kept.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    kept.length = Math.min(kept.length, maxFeatures);
    kept.sort((a, b) => (a[0] < b[0] ? -1 : 1));
    const vocabulary = new Map<string, number>();
    const idf = new Float64Array(kept.length);
    const N = texts.length;
    kept.forEach(([term, c], i) => {
      vocabulary.set(term, i);
      idf[i] = Math.log((1 + N) / (1 + c)) + 1;
    });
    return new TfidfVectorizer(vocabulary, idf, maxChars);
  }

  /** Sublinear tf (1 + ln tf) × idf, each row L2-normalised; unseen terms dropped. */
  transform(texts: string[]): CsrMatrix {
    const indptr = new Int32Array(texts.length + 1);
    const idx: number[] = [];
    const val: number[] = [];
    texts.forEach((t, r) => {
      const entries: Array<[number, number]> = [];
      for (const [term, c] of termCounts(t, this.maxChars)) {
        const j = this.vocabulary.get(term);
        if (j !== undefined) entries.push([j, (1 + Math.log(c)) * this.idf[j]]);
      }
      entries.sort((a, b) => a[0] - b[0]);
      const norm = Math.sqrt(entries.reduce((s, [, v]) => s + v * v, 0)) || 1;
      for (const [j, v] of entries) {
        idx.push(j);
        val.push(v / norm);
      }
      indptr[r + 1] = idx.length;
    });
    return { rows: texts.length, cols: this.size, indptr, indices: Int32Array.from(idx), values: Float32Array.from(val) };
  }
}

export interface TfidfModel {
  C: number;
  valLogloss: number;
  vocabSize: number;
  w: Float64Array;
  b: number;
  /** P(label = 1) for raw texts. */
  predict(texts: string[]): Float64Array;
  /** P(label = 1) for rows of a matrix already produced by this model's vectorizer. */
  predictMatrix(m: CsrMatrix, rows?: ArrayLike<number>): Float64Array;
}

export interface TfidfBaselineOptions extends TfidfOptions {
  /** Inverse regularisation strengths (sklearn convention: C·Σloss + ½‖w‖²). */
  Cs?: number[];
  /** Reuse a vectorizer already fitted on the same training texts (e.g. one per pool). */
  vectorizer?: TfidfVectorizer;
  /** Pre-transformed matrices matching trainTexts/valTexts, to skip re-tokenising. */
  trainMatrix?: CsrMatrix;
  valMatrix?: CsrMatrix;
}

export function fitTfidfBaseline(
  trainTexts: string[],
  trainLabels: ArrayLike<number>,
  valTexts: string[],
  valLabels: ArrayLike<number>,
  opts: TfidfBaselineOptions = {},
): TfidfModel {
  const { Cs = [0.1, 1, 10, 100] } = opts;
  const vec = opts.vectorizer ?? TfidfVectorizer.fit(trainTexts, opts);
  const trainM = opts.trainMatrix ?? vec.transform(trainTexts);
  const valM = opts.valMatrix ?? vec.transform(valTexts);
  const n = trainM.rows;
  // C·Σℓ + ½‖w‖²  ⇔  mean ℓ + (λ/2)‖w‖² with λ = 1/(C·n)
  const lambdas = Cs.map((C) => 1 / (C * n));
  const path = fitPath("logistic", new CsrRows(trainM), trainLabels, new CsrRows(valM), valLabels, lambdas, {
    // A baseline, not the product: stop once val loss turns up, cap work per C.
    rtol: 1e-3,
    maxIter: 150,
    patience: 1,
  });
  const { w, b, lambda, val } = path.best;
  const predictMatrix = (m: CsrMatrix, rows?: ArrayLike<number>): Float64Array => {
    const op = new CsrRows(m, rows);
    const out = new Float64Array(op.rows);
    op.forward(w, out);
    for (let k = 0; k < out.length; k++) out[k] = sigmoid(out[k] + b);
    return out;
  };
  return {
    C: 1 / (lambda * n),
    valLogloss: val,
    vocabSize: vec.size,
    w,
    b,
    predictMatrix,
    predict: (texts) => predictMatrix(vec.transform(texts)),
  };
}
