import { describe, expect, it } from 'vitest';
import { jaro, jaroWinkler } from './jaro-winkler.js';

describe('Jaro and Jaro-Winkler', () => {
  // Published values: Winkler (1990) and the examples in Wikipedia's "Jaro–Winkler distance".
  it.each([
    ['martha', 'marhta', 0.944, 0.961],
    ['dixon', 'dicksonx', 0.767, 0.813],
    ['dwayne', 'duane', 0.822, 0.84],
    ['crate', 'trace', 0.733, 0.733],
    ['jones', 'johnson', 0.79, 0.832],
  ])('%s / %s: Jaro %f, Jaro-Winkler %f', (a, b, j, jw) => {
    expect(jaro(a, b)).toBeCloseTo(j, 3);
    expect(jaroWinkler(a, b)).toBeCloseTo(jw, 3);
    expect(jaroWinkler(b, a)).toBeCloseTo(jw, 3);
  });

  it('gives 1 for equal strings and 0 when nothing is in common or a side is empty', () => {
    expect(jaroWinkler('siggins', 'siggins')).toBe(1);
    expect(jaroWinkler('abc', 'xyz')).toBe(0);
    expect(jaroWinkler('', 'abc')).toBe(0);
    expect(jaroWinkler('', '')).toBe(0);
  });

  it('gives the prefix bonus only above a Jaro of 0.7', () => {
    // Jaro 0.6: the shared prefix "ab" adds nothing.
    expect(jaroWinkler('abcd', 'abxy')).toBeCloseTo(jaro('abcd', 'abxy'), 10);
  });

  it('handles strings longer than its scratch space', () => {
    const long = 'a'.repeat(300);
    expect(jaroWinkler(long, `${long}b`)).toBeGreaterThan(0.99);
  });
});
