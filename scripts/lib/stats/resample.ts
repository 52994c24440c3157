/**
 * Rank statistics over bootstrap resamples in O(n) instead of O(n log n):
 * values are sorted once into tie groups, and a resample is represented by
 * per-row multiplicities, so AUROC and Spearman need no sort per replicate.
 * Results equal metrics.ts's auroc/spearman on the expanded resample (same
 * average-rank tie handling); the tests check that equivalence. Pure.
 */

/** Tie groups of a fixed vector: group[i] is the rank of values[i] among distinct values. */
export class TieGroups {
  readonly group: Int32Array;
  readonly groups: number;

  constructor(values: ArrayLike<number>) {
    const n = values.length;
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => values[a] - values[b]);
    this.group = new Int32Array(n);
    let g = -1;
    for (let k = 0; k < n; k++) {
      if (k === 0 || values[order[k]] !== values[order[k - 1]]) g++;
      this.group[order[k]] = g;
    }
    this.groups = g + 1;
  }
}

/** Multiplicity of each row 0..n-1 in a resample. */
export function countsOf(indices: ArrayLike<number>, n: number): Int32Array {
  const c = new Int32Array(n);
  for (let k = 0; k < indices.length; k++) c[indices[k]]++;
  return c;
}

/** Mann–Whitney AUROC of a weighted sample; ties between classes count one half. */
export function aurocCounts(scores: TieGroups, labels: ArrayLike<number>, counts: ArrayLike<number>): number | null {
  const pos = new Float64Array(scores.groups);
  const neg = new Float64Array(scores.groups);
  let P = 0;
  let N = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i];
    if (c === 0) continue;
    if (labels[i] === 1) {
      pos[scores.group[i]] += c;
      P += c;
    } else {
      neg[scores.group[i]] += c;
      N += c;
    }
  }
  if (P === 0 || N === 0) return null;
  let u = 0;
  let below = 0;
  for (let g = 0; g < scores.groups; g++) {
    u += pos[g] * (below + 0.5 * neg[g]);
    below += neg[g];
  }
  return u / (P * N);
}

/** Average rank (1-based) of each tie group within the weighted sample. */
function groupRanks(t: TieGroups, counts: ArrayLike<number>): Float64Array {
  const size = new Float64Array(t.groups);
  for (let i = 0; i < counts.length; i++) size[t.group[i]] += counts[i];
  const rank = new Float64Array(t.groups);
  let before = 0;
  for (let g = 0; g < t.groups; g++) {
    rank[g] = before + (size[g] + 1) / 2;
    before += size[g];
  }
  return rank;
}

/** Spearman correlation of a weighted sample (Pearson on average ranks). */
export function spearmanCounts(x: TieGroups, y: TieGroups, counts: ArrayLike<number>): number | null {
  const rx = groupRanks(x, counts);
  const ry = groupRanks(y, counts);
  let m = 0;
  for (let i = 0; i < counts.length; i++) m += counts[i];
  if (m < 2) return null;
  const mean = (m + 1) / 2; // ranks 1..m always average to this
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i];
    if (c === 0) continue;
    const dx = rx[x.group[i]] - mean;
    const dy = ry[y.group[i]] - mean;
    sxy += c * dx * dy;
    sxx += c * dx * dx;
    syy += c * dy * dy;
  }
  if (sxx === 0 || syy === 0) return null;
  return sxy / Math.sqrt(sxx * syy);
}
