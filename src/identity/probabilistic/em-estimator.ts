import type { VectorHistogram } from './comparison-vectors.js';

export interface EmOptions {
  maxIterations: number;
  tolerance: number;
}

export interface EmResult {
  /** Per field, m per level code; fields that were not active keep their starting values. */
  m: Float64Array[];
  /** The share of matches among the histogram's pairs. */
  prior: number;
  iterations: number;
  converged: boolean;
}

/**
 * Expectation maximisation of m (and the share of matches) over a histogram of comparison
 * vectors, u held fixed. Inactive fields (those the pairs were blocked on, so they agree by
 * construction) take no part. Conditional independence of fields is assumed, as in Fellegi-Sunter.
 */
export function estimateM(
  histogram: VectorHistogram,
  u: readonly Float64Array[],
  initialM: readonly Float64Array[],
  active: readonly boolean[],
  initialPrior: number,
  options: EmOptions,
): EmResult {
  const { fields, counts, levels } = histogram;
  const m = initialM.map((a) => Float64Array.from(a));
  const logRatio = m.map((a) => new Float64Array(a.length));
  const matchedAt = m.map((a) => new Float64Array(a.length));
  let prior = initialPrior;
  let iterations = 0;
  let converged = false;
  if (counts.reduce((sum, c) => sum + c, 0) <= 0) return { m, prior, iterations, converged };
  while (iterations < options.maxIterations && !converged) {
    iterations++;
    for (let k = 0; k < fields; k++) {
      for (let l = 1; l < m[k]!.length; l++) logRatio[k]![l] = Math.log(m[k]![l]! / u[k]![l]!);
      matchedAt[k]!.fill(0);
    }
    const logPriorOdds = Math.log(prior / (1 - prior));
    let matched = 0;
    let total = 0;
    for (let p = 0; p < counts.length; p++) {
      let s = logPriorOdds;
      for (let k = 0; k < fields; k++) if (active[k]) s += logRatio[k]![levels[p * fields + k]!]!;
      const w = counts[p]! / (1 + Math.exp(-s));
      matched += w;
      total += counts[p]!;
      for (let k = 0; k < fields; k++) matchedAt[k]![levels[p * fields + k]!]! += w;
    }
    let change = Math.abs(matched / total - prior);
    prior = clamp(matched / total);
    for (let k = 0; k < fields; k++) {
      if (!active[k]) continue;
      const at = matchedAt[k]!;
      let present = 0;
      for (let l = 1; l < at.length; l++) present += at[l]!;
      if (present <= 0) continue;
      // One pseudo-match per level keeps a level that matches almost never from weighing -30.
      for (let l = 1; l < at.length; l++) {
        const next = (at[l]! + 1) / (present + at.length - 1);
        change = Math.max(change, Math.abs(next - m[k]![l]!));
        m[k]![l] = next;
      }
    }
    converged = change < options.tolerance;
  }
  return { m, prior, iterations, converged };
}

/**
 * The probability that two records drawn at random are the same person, as the fixed point of
 * `prior = expected matches among the candidate pairs / all pairs` (pairs outside the blocks are
 * taken to be non-matches). `logWeights` holds ln(m/u) per field and level.
 */
export function estimatePrior(
  histogram: VectorHistogram,
  logWeights: readonly Float64Array[],
  allPairs: number,
  initialPrior: number,
): number {
  const { fields, counts, levels } = histogram;
  const evidence = new Float64Array(counts.length);
  for (let p = 0; p < counts.length; p++) {
    let s = 0;
    for (let k = 0; k < fields; k++) s += logWeights[k]![levels[p * fields + k]!]!;
    evidence[p] = s;
  }
  let prior = initialPrior;
  for (let iteration = 0; iteration < 200; iteration++) {
    const logPriorOdds = Math.log(prior / (1 - prior));
    let matched = 0;
    for (let p = 0; p < counts.length; p++)
      matched += counts[p]! / (1 + Math.exp(-(logPriorOdds + evidence[p]!)));
    const next = clamp(matched / allPairs);
    if (Math.abs(next - prior) <= prior * 1e-6) return next;
    prior = next;
  }
  return prior;
}

function clamp(p: number): number {
  return Math.min(1 - 1e-9, Math.max(1e-12, p));
}
