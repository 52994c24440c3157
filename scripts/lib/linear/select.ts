/**
 * Layer × λ selection for every pool model: for each candidate layer, fit a
 * standardiser on that layer's training rows, then per model run the
 * logistic (majority label) and ridge (success rate) λ paths and keep the
 * (layer, λ) with the lowest validation loss. Layers are the outer loop so
 * each 10k × d matrix is streamed through the cache by all models in turn.
 * Only train rows fit and only val rows select; calibration and test rows are
 * never touched here. A candidate is one layer, or "all": every candidate
 * layer's end-of-input state side by side (stackLayers), chosen like any layer.
 */
import type { ProbeLayer } from "../../../src/core/manifest.js";
import { hstack, StandardizedRows, type DenseMatrix } from "./dense.js";
import { fitPath, type LinearKind, type PathOptions } from "./path.js";
import { Standardizer } from "./standardizer.js";

/** A probe candidate: a layer index, or "all" = the candidate layers side by side, in the order given (the manifest's ProbeLayer). */
export type LayerId = ProbeLayer;

/**
 * The "all" candidate: every given layer's matrix side by side, in the order given. The one
 * definition for the probes stage (stackLayers) and for callers that fit "all" on its own.
 */
export function stackedCandidate(layers: Array<{ matrix: DenseMatrix }>, alloc?: (n: number) => Float32Array): { layer: "all"; matrix: DenseMatrix } {
  return { layer: "all", matrix: hstack(layers.map((l) => l.matrix), alloc) };
}

export interface SelectionModel {
  id: string;
  majority: ArrayLike<number>;
  rate: ArrayLike<number>;
  /** 1 where the model's outcome exists; 0 rows are excluded for this model. */
  mask: ArrayLike<number>;
}

export interface SelectionRow {
  layer: LayerId;
  lambda: number;
  val_loss: number;
  iterations: number;
  converged: boolean;
}

export interface SelectedLinear {
  kind: LinearKind;
  layer: LayerId;
  lambda: number;
  val_loss: number;
  w: Float64Array;
  b: number;
  /** Every (layer, λ) tried, in order, for the report. */
  tried: SelectionRow[];
}

export interface SelectionOptions extends PathOptions {
  logisticLambdas: number[];
  ridgeLambdas: number[];
  /** Called after each (layer, model) so a CLI can show progress. */
  onProgress?: (info: { layer: LayerId; model: string; seconds: number }) => void;
  now?: () => number;
}

export interface LayerInput {
  layer: LayerId;
  matrix: DenseMatrix;
}

export const presentRows = (rows: ArrayLike<number>, mask: ArrayLike<number>): number[] =>
  Array.from(rows).filter((r) => mask[r] === 1);

/** One layer's best logistic and ridge fit per model (val-selected over λ only). */
export interface LayerSelection {
  layer: LayerId;
  standardizer: Standardizer;
  logistic: Map<string, SelectedLinear>;
  ridge: Map<string, SelectedLinear>;
}

export type SelectionResult = {
  standardizers: Map<LayerId, Standardizer>;
  logistic: Map<string, SelectedLinear>;
  ridge: Map<string, SelectedLinear>;
};

export function selectLayer(
  { layer, matrix }: LayerInput,
  fitRows: ArrayLike<number>,
  valRows: ArrayLike<number>,
  models: SelectionModel[],
  opts: SelectionOptions,
): LayerSelection {
  const std = Standardizer.fit(matrix, fitRows);
  const out: LayerSelection = { layer, standardizer: std, logistic: new Map(), ridge: new Map() };
  for (const m of models) {
    const t0 = opts.now?.() ?? 0;
    const fit = presentRows(fitRows, m.mask);
    const val = presentRows(valRows, m.mask);
    if (fit.length === 0 || val.length === 0) throw new Error(`probes: model ${m.id} has no train or no val rows`);
    const trainOp = new StandardizedRows(matrix, fit, std);
    const valOp = new StandardizedRows(matrix, val, std);
    for (const kind of ["logistic", "ridge"] as const) {
      const y = kind === "logistic" ? m.majority : m.rate;
      const lambdas = kind === "logistic" ? opts.logisticLambdas : opts.ridgeLambdas;
      const path = fitPath(kind, trainOp, fit.map((r) => y[r]), valOp, val.map((r) => y[r]), lambdas, opts);
      const { lambda, w, b, val: v } = path.best;
      const tried = path.steps.map((s) => ({ layer, lambda: s.lambda, val_loss: s.val, iterations: s.iterations, converged: s.converged }));
      out[kind].set(m.id, { kind, layer, lambda, val_loss: v, w, b, tried });
    }
    opts.onProgress?.({ layer, model: m.id, seconds: ((opts.now?.() ?? 0) - t0) / 1000 });
  }
  return out;
}

/**
 * Best (layer, λ) per model across per-layer selections, taken in the order
 * given so ties go to the earlier layer whatever order workers finished in.
 */
export function mergeSelections(perLayer: LayerSelection[], models: SelectionModel[]): SelectionResult {
  const res: SelectionResult = { standardizers: new Map(), logistic: new Map(), ridge: new Map() };
  for (const sel of perLayer) res.standardizers.set(sel.layer, sel.standardizer);
  for (const m of models) {
    for (const kind of ["logistic", "ridge"] as const) {
      let best: SelectedLinear | undefined;
      const tried: SelectionRow[] = [];
      for (const sel of perLayer) {
        const c = sel[kind].get(m.id)!;
        tried.push(...c.tried);
        if (!best || c.val_loss < best.val_loss) best = c;
      }
      res[kind].set(m.id, { ...best!, tried });
    }
  }
  return res;
}

/** Single-threaded selection over all layers (see parallel.ts for the worker version). */
export function selectProbes(
  layers: LayerInput[],
  fitRows: ArrayLike<number>,
  valRows: ArrayLike<number>,
  models: SelectionModel[],
  opts: SelectionOptions,
): SelectionResult {
  return mergeSelections(
    layers.map((l) => selectLayer(l, fitRows, valRows, models, opts)),
    models,
  );
}
