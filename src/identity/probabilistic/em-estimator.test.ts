import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../core/index.js';
import type { VectorHistogram } from './comparison-vectors.js';
import { estimateM, estimatePrior } from './em-estimator.js';

// Four fields; level codes 0 (null, unused here), 1 else, 2 exact, 3 a fuzzy band.
const TRUE_M = [
  [0, 0.05, 0.85, 0.1],
  [0, 0.1, 0.7, 0.2],
  [0, 0.02, 0.95, 0.03],
  [0, 0.2, 0.6, 0.2],
].map((a) => Float64Array.from(a));
const TRUE_U = [
  [0, 0.95, 0.01, 0.04],
  [0, 0.9, 0.05, 0.05],
  [0, 0.97, 0.005, 0.025],
  [0, 0.6, 0.3, 0.1],
].map((a) => Float64Array.from(a));
const TRUE_SHARE = 0.08;
const START_M = TRUE_M.map(() => Float64Array.from([0, 0.1, 0.8, 0.1]));
const ALL = [true, true, true, true];
const OPTIONS = { maxIterations: 500, tolerance: 1e-9 };

/** Every vector of levels 1..3 on four fields, weighted by `count(levels)`. */
function histogram(count: (levels: number[]) => number): VectorHistogram {
  const counts: number[] = [];
  const levels: number[] = [];
  for (let v = 0; v < 81; v++) {
    const ls = [0, 1, 2, 3].map((k) => 1 + (Math.floor(v / 3 ** k) % 3));
    counts.push(count(ls));
    levels.push(...ls);
  }
  return { fields: 4, counts: Float64Array.from(counts), levels: Uint8Array.from(levels) };
}

const probability = (params: Float64Array[], ls: number[]) => ls.reduce((p, l, k) => p * params[k]![l]!, 1);

describe('EM estimation of m', () => {
  it('recovers the true m and share of matches from their expected counts', () => {
    const pairs = 100_000;
    const data = histogram(
      (ls) => pairs * (TRUE_SHARE * probability(TRUE_M, ls) + (1 - TRUE_SHARE) * probability(TRUE_U, ls)),
    );
    const result = estimateM(data, TRUE_U, START_M, ALL, 0.3, OPTIONS);
    expect(result.converged).toBe(true);
    expect(result.prior).toBeCloseTo(TRUE_SHARE, 3);
    for (let k = 0; k < 4; k++) {
      for (let l = 1; l <= 3; l++) expect(result.m[k]![l]).toBeCloseTo(TRUE_M[k]![l]!, 2);
    }
  });

  it('recovers them within sampling error from a random sample of pairs', () => {
    const random = seededRandom(11);
    // One level per field, drawn from that field's probabilities.
    const draw = (params: Float64Array[]) =>
      params.map((p) => {
        const r = random();
        let sum = 0;
        for (let l = 1; l < p.length; l++) {
          sum += p[l]!;
          if (r < sum) return l;
        }
        return p.length - 1;
      });
    const tally = new Map<string, number>();
    for (let i = 0; i < 50_000; i++) {
      const key = draw(random() < TRUE_SHARE ? TRUE_M : TRUE_U).join();
      tally.set(key, (tally.get(key) ?? 0) + 1);
    }
    const data = histogram((ls) => tally.get(ls.join()) ?? 0);
    const result = estimateM(data, TRUE_U, START_M, ALL, 0.3, OPTIONS);
    expect(Math.abs(result.prior - TRUE_SHARE)).toBeLessThan(0.01);
    for (let k = 0; k < 4; k++) {
      for (let l = 1; l <= 3; l++) expect(Math.abs(result.m[k]![l]! - TRUE_M[k]![l]!)).toBeLessThan(0.03);
    }
  });

  it('leaves the m of inactive fields (those the pairs were blocked on) as they started', () => {
    const data = histogram((ls) => 1000 * (0.5 * probability(TRUE_M, ls) + 0.5 * probability(TRUE_U, ls)));
    const result = estimateM(data, TRUE_U, START_M, [true, true, true, false], 0.3, OPTIONS);
    expect([...result.m[3]!]).toEqual([...START_M[3]!]);
    expect(result.m[0]![2]).toBeCloseTo(TRUE_M[0]![2]!, 1);
  });
});

describe('prior estimation', () => {
  it('finds the share of all pairs that match from the expected matches among candidates', () => {
    // 1,000 candidate pairs, 100 of them agreeing everywhere (clear matches), among 10^6 pairs in all.
    const data: VectorHistogram = {
      fields: 2,
      counts: Float64Array.from([100, 900]),
      levels: Uint8Array.from([2, 2, 1, 1]),
    };
    const logWeights = [Float64Array.from([0, -5, 12]), Float64Array.from([0, -5, 12])];
    const prior = estimatePrior(data, logWeights, 1_000_000, 0.5);
    expect(prior).toBeCloseTo(100 / 1_000_000, 6);
  });
});
