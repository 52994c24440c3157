/**
 * Reference predictors for `evaluate`, fitted on the bundle's training data
 * only (never on evaluation rows): per pool model a TF-IDF logistic
 * regression, a prompt-length logistic fit and the majority class (train
 * base rate). Owns which training rows each baseline sees; the fitting
 * itself is scripts/lib/tfidf.ts. Must not score the student or do I/O.
 *
 * Rows used:
 *   fit:  trainRows with split "train"; if none is marked "train", the rows
 *         with no split at all (an unsplit training file).
 *   C:    TF-IDF's regularisation is chosen on trainRows with split "val";
 *         if there are none, on a deterministic holdout of every 5th fit row
 *         (which is then left out of the fit).
 * A model with no labelled fit rows gets the constant 0.5; one with no
 * labelled C rows has C chosen on its fit rows (both visible in `info`).
 */
import type { CsrMatrix } from "../lib/linear/sparse.js";
import { fitLengthBaseline, fitMajorityBaseline, fitTfidfBaseline, logLength, predictScalar, TfidfVectorizer, type TfidfModel } from "../lib/tfidf.js";
import type { ScalarBaseline } from "../lib/linear/baselines.js";
import type { OutcomeRow } from "../formats/outcomes.js";
import { rowSuccess, rowText } from "./score.js";

export interface BaselineInfo {
  fit_rows: number;
  c_rows: number;
  c_source: "train-data:val" | "holdout-every-5th";
  per_model: Record<string, { fit_labelled: number; c_labelled: number; tfidf_C: number | null; majority_p: number | null; vocab: number }>;
}

export interface Baselines {
  info: BaselineInfo;
  /** P(success) per [row][model] for each baseline, columns in `models` order. */
  predict(texts: string[]): { tfidf: number[][]; length: number[][]; majority: number[][] };
}

function selectRows(m: CsrMatrix, rows: number[]): CsrMatrix {
  const indptr = new Int32Array(rows.length + 1);
  let nnz = 0;
  for (const r of rows) nnz += m.indptr[r + 1] - m.indptr[r];
  const indices = new Int32Array(nnz);
  const values = new Float32Array(nnz);
  let at = 0;
  rows.forEach((r, k) => {
    const a = m.indptr[r];
    const b = m.indptr[r + 1];
    indices.set(m.indices.subarray(a, b), at);
    values.set(m.values.subarray(a, b), at);
    at += b - a;
    indptr[k + 1] = at;
  });
  return { rows: rows.length, cols: m.cols, indptr, indices, values };
}

export function splitTrainingRows(trainRows: OutcomeRow[]): { fit: OutcomeRow[]; cval: OutcomeRow[]; source: BaselineInfo["c_source"] } {
  let fit = trainRows.filter((r) => r.split === "train");
  if (fit.length === 0) fit = trainRows.filter((r) => r.split === undefined);
  const val = trainRows.filter((r) => r.split === "val");
  if (val.length > 0) return { fit, cval: val, source: "train-data:val" };
  return { fit: fit.filter((_, i) => i % 5 !== 4), cval: fit.filter((_, i) => i % 5 === 4), source: "holdout-every-5th" };
}

export function fitBaselines(trainRows: OutcomeRow[], models: string[]): Baselines {
  const { fit, cval, source } = splitTrainingRows(trainRows);
  if (fit.length === 0) throw new Error("evaluate: no training rows to fit baselines on (need split \"train\" or unsplit rows)");
  const fitTexts = fit.map(rowText);
  const cTexts = cval.map(rowText);
  const vec = TfidfVectorizer.fit(fitTexts);
  const fitM = vec.transform(fitTexts);
  const cM = vec.transform(cTexts);
  const tfidf: (TfidfModel | null)[] = [];
  const length: (ScalarBaseline | null)[] = [];
  const majority: (number | null)[] = [];
  const info: BaselineInfo = { fit_rows: fit.length, c_rows: cval.length, c_source: source, per_model: {} };
  for (const model of models) {
    const fi = fit.flatMap((r, i) => (r.outcomes[model] ? [i] : []));
    const ci = cval.flatMap((r, i) => (r.outcomes[model] ? [i] : []));
    const y = fi.map((i) => rowSuccess(fit[i], model));
    const yc = ci.map((i) => rowSuccess(cval[i], model));
    // No labelled C rows for this model: choose C on its fit rows (in-sample; noted in info).
    const cSel = ci.length > 0 ? { texts: ci.map((i) => cTexts[i]), y: yc, m: selectRows(cM, ci) } : { texts: fi.map((i) => fitTexts[i]), y, m: selectRows(fitM, fi) };
    if (fi.length === 0) {
      tfidf.push(null);
      length.push(null);
      majority.push(null);
      info.per_model[model] = { fit_labelled: 0, c_labelled: ci.length, tfidf_C: null, majority_p: null, vocab: vec.size };
      continue;
    }
    const t = fitTfidfBaseline(
      fi.map((i) => fitTexts[i]),
      y,
      cSel.texts,
      cSel.y,
      { vectorizer: vec, trainMatrix: selectRows(fitM, fi), valMatrix: cSel.m },
    );
    tfidf.push(t);
    length.push(fitLengthBaseline(fi.map((i) => fitTexts[i]), y));
    const maj = fitMajorityBaseline(y).p;
    majority.push(maj);
    info.per_model[model] = { fit_labelled: fi.length, c_labelled: ci.length, tfidf_C: t.C, majority_p: maj, vocab: vec.size };
  }
  return {
    info,
    predict(texts) {
      const M = vec.transform(texts);
      const cols = tfidf.map((t) => (t ? Array.from(t.predictMatrix(M)) : null));
      const lens = texts.map(logLength);
      return {
        tfidf: texts.map((_, i) => cols.map((c) => (c ? c[i] : 0.5))),
        length: lens.map((x) => length.map((l) => (l ? predictScalar(l, x) : 0.5))),
        majority: texts.map(() => majority.map((p) => p ?? 0.5)),
      };
    },
  };
}
