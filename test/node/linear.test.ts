// Known-answer tests for scripts/lib/linear: standardiser statistics, the
// folded-standardisation operator against explicit products, ridge against
// the normal equations, logistic against closed-form MLEs and Newton's method.
import { describe, expect, it } from "vitest";
import { Standardizer } from "../../scripts/lib/linear/standardizer.js";
import { StandardizedRows, matrixFromRows, scoreRows } from "../../scripts/lib/linear/dense.js";
import { SmallDenseOperator } from "../../scripts/lib/linear/operator.js";
import { fitLogistic, sigmoid } from "../../scripts/lib/linear/logistic.js";
import { fitRidge } from "../../scripts/lib/linear/ridge.js";
import { fitPath } from "../../scripts/lib/linear/path.js";
import { gaussian, mulberry32 } from "../../src/core/random.js";

/** Gaussian elimination with partial pivoting; test-only reference solver. */
function solve(A: number[][], b: number[]): number[] {
  const n = b.length;
  const M = A.map((row, i) => [...row, b[i]]);
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r][c]) > Math.abs(M[piv][c])) piv = r;
    [M[c], M[piv]] = [M[piv], M[c]];
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = M[r][c] / M[c][c];
      for (let k = c; k <= n; k++) M[r][k] -= f * M[c][k];
    }
  }
  return M.map((row, i) => row[n] / row[i]);
}

function randomRows(n: number, d: number, seed: number): number[][] {
  const rng = mulberry32(seed);
  return Array.from({ length: n }, () => Array.from({ length: d }, () => gaussian(rng) * 2 + 1));
}

describe("Standardizer", () => {
  it("fits population mean/std on the given rows only", () => {
    const X = matrixFromRows([[1, 5], [3, 5], [100, 100]], 2);
    const s = Standardizer.fit(X, [0, 1]);
    expect(Array.from(s.mean)).toEqual([2, 5]);
    expect(Array.from(s.std)).toEqual([1, 1]); // col 0: std 1; col 1 constant → 1
    expect(Array.from(s.transform([3, 5]))).toEqual([1, 0]);
    expect(Standardizer.fromJSON(JSON.parse(JSON.stringify(s))).mean).toEqual(s.mean);
  });
});

describe("StandardizedRows operator", () => {
  const rows = randomRows(11, 7, 1);
  const X = matrixFromRows(rows, 7);
  const subset = [10, 0, 3, 4, 5, 9, 2]; // 7 rows: exercises the 4-row block and the tail
  const std = Standardizer.fit(X, subset);
  const Z = subset.map((r) => Array.from(std.transform(Float32Array.from(rows[r]))));
  const op = new StandardizedRows(X, subset, std);
  const v = Float64Array.from([0.3, -1, 2, 0.5, 0, -0.7, 1.1]);
  const r = Float64Array.from([1, -2, 0.5, 0.25, 3, -1, 0.1]);

  it("forward equals the explicit standardised product", () => {
    const out = new Float64Array(7);
    op.forward(v, out);
    Z.forEach((z, k) => expect(out[k]).toBeCloseTo(z.reduce((s, zj, j) => s + zj * v[j], 0), 5));
  });
  it("adjoint equals the explicit transposed product", () => {
    const out = new Float64Array(7);
    op.adjoint(r, out);
    for (let j = 0; j < 7; j++) expect(out[j]).toBeCloseTo(Z.reduce((s, z, k) => s + z[j] * r[k], 0), 5);
  });
  it("scoreRows adds the intercept", () => {
    const s = scoreRows(X, [10], std, v, 2);
    expect(s[0]).toBeCloseTo(Z[0].reduce((a, zj, j) => a + zj * v[j], 0) + 2, 5);
  });
});

describe("ridge", () => {
  it("matches the normal equations with an unpenalised intercept", () => {
    const n = 40;
    const d = 5;
    const rows = randomRows(n, d, 2);
    const rng = mulberry32(3);
    const y = rows.map((x) => x[0] - 2 * x[3] + 0.5 + gaussian(rng));
    const lambda = 0.3;
    // Normal equations in [w; b]: [XᵀX/n + λI, Xᵀ1/n; 1ᵀX/n, 1] = [Xᵀy/n; ȳ]
    const A: number[][] = [];
    const rhs: number[] = [];
    for (let i = 0; i <= d; i++) {
      const col = (x: number[]) => (i < d ? x[i] : 1);
      A.push(Array.from({ length: d + 1 }, (_, j) => rows.reduce((s, x) => s + col(x) * (j < d ? x[j] : 1), 0) / n + (i === j && i < d ? lambda : 0)));
      rhs.push(rows.reduce((s, x, k) => s + col(x) * y[k], 0) / n);
    }
    const ref = solve(A, rhs);
    const fit = fitRidge(SmallDenseOperator.fromRows(rows), y, { lambda, gtol: 1e-12 });
    expect(fit.converged).toBe(true);
    for (let j = 0; j < d; j++) expect(fit.w[j]).toBeCloseTo(ref[j], 8);
    expect(fit.b).toBeCloseTo(ref[d], 8);
  });
  it("1-D textbook case: w = Sxy / (Sxx + nλ) on centred x", () => {
    const x = [-2, -1, 0, 1, 2];
    const y = [1, 2, 2, 4, 6]; // ȳ = 3, Sxy = 12, Sxx = 10
    const fit = fitRidge(SmallDenseOperator.fromRows(x.map((v) => [v])), y, { lambda: 0.4, gtol: 1e-12 });
    expect(fit.w[0]).toBeCloseTo(12 / (10 + 5 * 0.4), 10);
    expect(fit.b).toBeCloseTo(3, 10);
  });
  it("a warm start converges to the same solution", () => {
    const rows = randomRows(30, 4, 4);
    const y = rows.map((x) => x[1]);
    const op = SmallDenseOperator.fromRows(rows);
    const cold = fitRidge(op, y, { lambda: 0.01, gtol: 1e-12 });
    const warm = fitRidge(op, y, { lambda: 0.01, gtol: 1e-12, init: fitRidge(op, y, { lambda: 1 }) });
    for (let j = 0; j < 4; j++) expect(warm.w[j]).toBeCloseTo(cold.w[j], 8);
  });
});

describe("logistic", () => {
  it("recovers group log-odds exactly for one binary feature (unpenalised MLE)", () => {
    // x=0: 3 of 4 positive → b = ln 3;  x=1: 1 of 4 → w + b = ln(1/3)
    const x = [0, 0, 0, 0, 1, 1, 1, 1];
    const y = [1, 1, 1, 0, 1, 0, 0, 0];
    const fit = fitLogistic(SmallDenseOperator.fromRows(x.map((v) => [v])), y, { lambda: 0, gtol: 1e-10 });
    expect(fit.converged).toBe(true);
    expect(fit.b).toBeCloseTo(Math.log(3), 7);
    expect(fit.w[0]).toBeCloseTo(-2 * Math.log(3), 7);
  });

  it("matches Newton's method on a penalised 2-D problem", () => {
    const n = 60;
    const rows = randomRows(n, 2, 5);
    const rng = mulberry32(6);
    const y = rows.map((x) => (rng() < sigmoid(1.5 * x[0] - x[1]) ? 1 : 0));
    const lambda = 0.05;
    // Reference: Newton on θ = [w0, w1, b] with a 3×3 solve per step.
    let th = [0, 0, 0];
    for (let it = 0; it < 50; it++) {
      const g = [lambda * th[0], lambda * th[1], 0];
      const H = [[lambda, 0, 0], [0, lambda, 0], [0, 0, 0]];
      rows.forEach((x, k) => {
        const f = [x[0], x[1], 1];
        const p = sigmoid(th[0] * x[0] + th[1] * x[1] + th[2]);
        for (let i = 0; i < 3; i++) {
          g[i] += ((p - y[k]) * f[i]) / n;
          for (let j = 0; j < 3; j++) H[i][j] += (p * (1 - p) * f[i] * f[j]) / n;
        }
      });
      const step = solve(H, g);
      th = th.map((t, i) => t - step[i]);
    }
    const fit = fitLogistic(SmallDenseOperator.fromRows(rows), y, { lambda, gtol: 1e-11 });
    expect(fit.w[0]).toBeCloseTo(th[0], 7);
    expect(fit.w[1]).toBeCloseTo(th[1], 7);
    expect(fit.b).toBeCloseTo(th[2], 7);
    expect(fit.gradMax).toBeLessThan(1e-10);
  });

  it("learns a planted direction through the dense standardised operator", () => {
    const n = 400;
    const d = 32;
    const rows = randomRows(n, d, 7);
    const rng = mulberry32(8);
    const y = rows.map((x) => (rng() < sigmoid(2 * (x[3] - 1) - 2 * (x[9] - 1)) ? 1 : 0));
    const X = matrixFromRows(rows, d);
    const all = Array.from({ length: n }, (_, i) => i);
    const std = Standardizer.fit(X, all);
    const fit = fitLogistic(new StandardizedRows(X, all, std), y, { lambda: 1e-3, gtol: 1e-7 });
    expect(fit.converged).toBe(true);
    const order = Array.from(fit.w).map((w, j) => [Math.abs(w), j]).sort((a, b) => b[0] - a[0]);
    expect(new Set([order[0][1], order[1][1]])).toEqual(new Set([3, 9]));
    expect(fit.w[3]).toBeGreaterThan(0);
    expect(fit.w[9]).toBeLessThan(0);
  });
});

describe("cached warm starts", () => {
  it("margins + data gradient from a previous fit replace the first products exactly", () => {
    const rows = randomRows(80, 6, 12);
    const rng = mulberry32(13);
    const y = rows.map((x) => (rng() < sigmoid(x[2] - 1) ? 1 : 0));
    const op = SmallDenseOperator.fromRows(rows);
    for (const fit of [fitLogistic, fitRidge]) {
      const prev = fit(op, y, { lambda: 0.5, gtol: 1e-12 });
      // the reported data gradient is the true one at the solution
      const z = new Float64Array(80);
      op.forward(prev.w, z);
      expect(prev.margins[3]).toBeCloseTo(z[3] + prev.b, 9);
      const plain = fit(op, y, { lambda: 0.05, gtol: 1e-10, init: { w: prev.w, b: prev.b } });
      const cached = fit(op, y, { lambda: 0.05, gtol: 1e-10, init: prev });
      for (let j = 0; j < 6; j++) expect(cached.w[j]).toBeCloseTo(plain.w[j], 7);
      expect(cached.b).toBeCloseTo(plain.b, 7);
    }
  });
});

describe("fitPath", () => {
  const n = 300;
  const d = 40;
  const rows = randomRows(n, d, 9);
  const rng = mulberry32(10);
  const y = rows.map((x) => (rng() < sigmoid(0.8 * (x[0] - 1)) ? 1 : 0));
  const X = matrixFromRows(rows, d);
  const tr = Array.from({ length: 200 }, (_, i) => i);
  const va = Array.from({ length: 100 }, (_, i) => 200 + i);
  const std = Standardizer.fit(X, tr);
  const trOp = new StandardizedRows(X, tr, std);
  const vaOp = new StandardizedRows(X, va, std);
  const grid = [1e-4, 10, 1e-2, 1, 1e-3, 0.1, 3, 0.3, 0.03];

  it("walks λ downward, keeps the lowest validation loss, and stops once it rises", () => {
    const p = fitPath("logistic", trOp, tr.map((i) => y[i]), vaOp, va.map((i) => y[i]), grid);
    const lambdas = p.steps.map((s) => s.lambda);
    expect(lambdas).toEqual([...grid].sort((a, b) => b - a).slice(0, lambdas.length));
    expect(p.best.val).toBe(Math.min(...p.steps.map((s) => s.val)));
    expect(p.steps.length).toBeLessThan(grid.length); // 40 noisy features, 200 rows: small λ overfits
    const last = p.steps[p.steps.length - 1];
    expect(last.val).toBeGreaterThan(p.best.val);
    // The returned validation margins are the chosen fit's.
    const z = new Float64Array(100);
    vaOp.forward(p.best.w, z);
    expect(p.best.valMargins[7]).toBeCloseTo(z[7] + p.best.b, 10);
  });
  it("ridge path returns the same answer as a direct fit at the chosen λ", async () => {
    const yr = tr.map((i) => rows[i][0] + 0.1 * rows[i][1]);
    const p = fitPath("ridge", trOp, yr, vaOp, va.map((i) => rows[i][0] + 0.1 * rows[i][1]), grid, { rtol: 1e-9, maxIter: 2000 });
    const direct = fitRidge(trOp, yr, { lambda: p.best.lambda, gtol: 1e-12, maxIter: 2000 });
    for (const j of [0, 1, 5]) expect(p.best.w[j]).toBeCloseTo(direct.w[j], 6);
  });
});
