/**
 * Expected cost of sending one prompt to one model. Prices are USD per 1M
 * tokens, as providers quote them. Pure.
 */
export interface Price {
  input_per_mtok: number;
  output_per_mtok: number;
}

export function expectedCostUsd(inputTokens: number, outputTokens: number, price: Price): number {
  return (inputTokens * price.input_per_mtok + outputTokens * price.output_per_mtok) / 1_000_000;
}

/** Cost per success: expected cost divided by P(success); Infinity when p is 0. */
export function costPerSuccess(cost: number, p: number): number | null {
  return p > 0 ? cost / p : null;
}
