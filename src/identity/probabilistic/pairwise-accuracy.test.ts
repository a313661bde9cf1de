import { describe, expect, it } from 'vitest';
import { pairwiseAccuracy } from './pairwise-accuracy.js';

// Person 1 has three records (3 true pairs), person 2 two (1 pair), person 3 one.
const entityOf = new Map([
  ['a1', '1'],
  ['a2', '1'],
  ['a3', '1'],
  ['b1', '2'],
  ['b2', '2'],
  ['c1', '3'],
]);
const link = (leftId: string, rightId: string) => ({ leftId, rightId });

describe('pairwise accuracy', () => {
  it('scores the predicted pairs against every pair of records of the same entity', () => {
    const links = [link('a1', 'a2'), link('a3', 'a2'), link('a2', 'a1'), link('b1', 'c1')];
    expect(pairwiseAccuracy(entityOf, links)).toEqual({
      truePairs: 4,
      predictedPairs: 3,
      correctPairs: 2,
      precision: 2 / 3,
      recall: 0.5,
      f1: (2 * (2 / 3) * 0.5) / (2 / 3 + 0.5),
    });
  });

  it('with closure, scores the clusters the links merge into', () => {
    const links = [link('a1', 'a2'), link('a3', 'a2'), link('b1', 'c1')];
    // Clusters {a1, a2, a3} (3 pairs, all right) and {b1, c1} (1 pair, wrong).
    expect(pairwiseAccuracy(entityOf, links, { closure: true })).toMatchObject({
      predictedPairs: 4,
      correctPairs: 3,
      precision: 0.75,
      recall: 0.75,
    });
  });
});
