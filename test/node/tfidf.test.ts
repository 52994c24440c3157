// Tests for scripts/lib/tfidf.ts and the sparse/baseline pieces it uses:
// exact n-gram counts, idf/normalisation values, train-only vocabulary, and
// end-to-end baselines on texts whose label is known to depend on a word/length.
import { describe, expect, it } from "vitest";
import {
  TfidfVectorizer,
  fitLengthBaseline,
  fitMajorityBaseline,
  fitTfidfBaseline,
  predictScalar,
  logLength,
  termCounts,
} from "../../scripts/lib/tfidf.js";
import { CsrRows, csrFromRows } from "../../scripts/lib/linear/sparse.js";
import { auroc } from "../../scripts/lib/stats/metrics.js";
import { mulberry32 } from "../../src/core/random.js";

describe("termCounts", () => {
  it("counts word 1–2-grams and char 3–5-grams of the padded lowercased text", () => {
    const c = termCounts("Hi hi  there");
    expect(c.get("w:hi")).toBe(2);
    expect(c.get("w:hi hi")).toBe(1);
    expect(c.get("w:hi there")).toBe(1);
    expect(c.get("w:there")).toBe(1);
    // padded text " hi hi there " (whitespace collapsed)
    expect(c.get("c: hi")).toBe(2);
    expect(c.get("c:hi h")).toBe(1);
    expect(c.get("c:ere ")).toBe(1);
    expect(c.get("c:there")).toBe(1);
    expect(c.get("c:Hi ")).toBeUndefined();
  });
});

describe("TfidfVectorizer", () => {
  it("uses smoothed idf, sublinear tf and unit-norm rows", () => {
    const v = TfidfVectorizer.fit(["a b", "a c"], { minDf: 1 });
    const ja = v.vocabulary.get("w:a")!;
    const jb = v.vocabulary.get("w:b")!;
    expect(v.idf[ja]).toBeCloseTo(1, 12); // ln(3/3) + 1
    expect(v.idf[jb]).toBeCloseTo(Math.log(3 / 2) + 1, 12);
    const m = v.transform(["a a b", "zzzz"]);
    let sq = 0;
    for (let p = m.indptr[0]; p < m.indptr[1]; p++) sq += m.values[p] ** 2;
    expect(sq).toBeCloseTo(1, 6);
    // tf(a)=2 → (1+ln2)·1 ; tf(b)=1 → idf_b; ratio survives normalisation
    const val = (j: number) => m.values[Array.from(m.indices.subarray(0, m.indptr[1])).indexOf(j)];
    expect(val(ja) / val(jb)).toBeCloseTo((1 + Math.log(2)) / (Math.log(1.5) + 1), 5);
    expect(m.indptr[2] - m.indptr[1]).toBe(0); // nothing known about "zzzz"
  });
  it("fits vocabulary on training texts only and applies minDf / maxFeatures", () => {
    const v = TfidfVectorizer.fit(["red fish", "red cat", "blue"], { minDf: 2 });
    expect(v.vocabulary.has("w:red")).toBe(true);
    expect(v.vocabulary.has("w:fish")).toBe(false);
    const capped = TfidfVectorizer.fit(["red fish", "red cat", "blue"], { minDf: 1, maxFeatures: 3 });
    expect(capped.size).toBe(3);
  });
});

describe("CsrRows", () => {
  it("forward/adjoint agree with the dense matrix on a row subset", () => {
    const m = csrFromRows([[[0, 1], [2, 2]], [], [[1, -1]]], 3); // [[1,0,2],[0,0,0],[0,-1,0]]
    const op = new CsrRows(m, [2, 0]);
    const out = new Float64Array(2);
    op.forward(Float64Array.from([1, 2, 3]), out);
    expect(Array.from(out)).toEqual([-2, 7]);
    const g = new Float64Array(3);
    op.adjoint(Float64Array.from([1, 10]), g);
    expect(Array.from(g)).toEqual([10, -1, 20]);
  });
});

function synthTexts(n: number, seed: number): { texts: string[]; labels: number[] } {
  const rng = mulberry32(seed);
  const filler = ["the", "a", "model", "answer", "question", "please", "write", "code", "about", "data"];
  const texts: string[] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const y = rng() < 0.5 ? 1 : 0;
    const words = Array.from({ length: 6 + Math.floor(rng() * 6) }, () => filler[Math.floor(rng() * filler.length)]);
    // The marker word predicts the label 90% of the time.
    words.splice(Math.floor(rng() * words.length), 0, (rng() < 0.9) === (y === 1) ? "easy" : "proof");
    texts.push(words.join(" "));
    labels.push(y);
  }
  return { texts, labels };
}

describe("baselines", () => {
  it("TF-IDF logistic learns a marker word and selects C on validation", () => {
    const tr = synthTexts(300, 1);
    const va = synthTexts(150, 2);
    const te = synthTexts(200, 3);
    const m = fitTfidfBaseline(tr.texts, tr.labels, va.texts, va.labels);
    expect([0.1, 1, 10, 100]).toContain(Math.round(m.C * 1e6) / 1e6);
    const p = m.predict(te.texts);
    expect(auroc(p, te.labels)!).toBeGreaterThan(0.85);
    expect(m.predict(["easy"])[0]).toBeGreaterThan(m.predict(["proof"])[0]);
  });
  it("length baseline is monotone in length with the learned sign", () => {
    const texts = Array.from({ length: 60 }, (_, i) => "x".repeat(5 + i * 3));
    const labels = texts.map((t) => (t.length > 90 ? 1 : 0));
    const m = fitLengthBaseline(texts, labels);
    expect(m.w).toBeGreaterThan(0);
    expect(predictScalar(m, logLength("x".repeat(200)))).toBeGreaterThan(0.9);
    expect(predictScalar(m, logLength("x"))).toBeLessThan(0.1);
  });
  it("majority baseline predicts the train base rate", () => {
    expect(fitMajorityBaseline([1, 0, 0, 0]).p).toBe(0.25);
  });
});
