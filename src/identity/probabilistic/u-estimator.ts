import { seededRandom } from '../../core/index.js';
import type { FieldComparator } from './comparison-levels.js';

/** How often each level occurs among random record pairs, per field (index = level code). */
export interface RandomPairLevels {
  pairs: number;
  counts: Float64Array[];
}

/**
 * Compares `sampleSize` random pairs (every pair when there are fewer). Almost all random pairs
 * are two different people, which is what u describes.
 */
export function countRandomPairLevels(
  size: number,
  comparators: readonly FieldComparator[],
  sampleSize: number,
  seed: number,
): RandomPairLevels {
  const counts = comparators.map((c) => new Float64Array(c.labels.length));
  const add = (i: number, j: number) => {
    for (let k = 0; k < comparators.length; k++) counts[k]![comparators[k]!.level(i, j)]!++;
  };
  const total = (size * (size - 1)) / 2;
  if (total <= sampleSize) {
    for (let i = 0; i < size; i++) for (let j = i + 1; j < size; j++) add(i, j);
    return { pairs: total, counts };
  }
  const random = seededRandom(seed);
  for (let s = 0; s < sampleSize; s++) {
    const i = Math.floor(random() * size);
    const j = (i + 1 + Math.floor(random() * (size - 1))) % size;
    add(i, j);
  }
  return { pairs: sampleSize, counts };
}

/**
 * u per level (code 0, null, stays 0): the share of random pairs at that level among those with
 * both values present, less the expected share of true matches among them (`prior` of m), with
 * one pseudo-pair per level so that a level never seen keeps a finite weight.
 */
export function uProbabilities(counts: Float64Array, m?: Float64Array, prior = 0): Float64Array {
  const u = new Float64Array(counts.length);
  let present = 0;
  for (let l = 1; l < counts.length; l++) present += counts[l]!;
  const floor = 1 / (present + counts.length);
  let sum = 0;
  for (let l = 1; l < counts.length; l++) {
    const f = (counts[l]! + 1) / (present + counts.length - 1);
    const value = m === undefined ? f : (f - prior * m[l]!) / (1 - prior);
    u[l] = Math.max(floor, value);
    sum += u[l]!;
  }
  for (let l = 1; l < counts.length; l++) u[l]! /= sum;
  return u;
}
