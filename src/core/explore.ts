/**
 * ε-greedy exploration on top of any policy, with the true propensity of the
 * logged choice, so off-policy estimates from the log are unbiased. Pure: the
 * two uniform draws are passed in.
 */
export interface Explored {
  model: string;
  propensity: number;
  explored: boolean;
}

/**
 * With probability ε, pick uniformly among the K candidates; else keep the
 * greedy pick. P(greedy) = 1 − ε + ε/K, P(other) = ε/K.
 */
export function epsilonGreedy(greedy: string, candidates: string[], epsilon: number, u1: number, u2: number): Explored {
  const K = candidates.length;
  if (epsilon <= 0 || K <= 1) return { model: greedy, propensity: 1, explored: false };
  const explore = u1 < epsilon;
  const model = explore ? candidates[Math.min(K - 1, Math.floor(u2 * K))] : greedy;
  const propensity = model === greedy ? 1 - epsilon + epsilon / K : epsilon / K;
  return { model, propensity, explored: explore };
}
