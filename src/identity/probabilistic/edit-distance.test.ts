import { describe, expect, it } from 'vitest';
import { editDistance } from './edit-distance.js';

describe('edit distance', () => {
  it('counts insertions, deletions and substitutions (Levenshtein)', () => {
    expect(editDistance('kitten', 'sitting', 5, false)).toBe(3);
    expect(editDistance('flaw', 'lawn', 5, false)).toBe(2);
    expect(editDistance('', 'abc', 5, false)).toBe(3);
    expect(editDistance('same', 'same', 5, false)).toBe(0);
  });

  it('counts a swap of adjacent characters as one edit when asked (optimal string alignment)', () => {
    expect(editDistance('5162', '5612', 5, true)).toBe(1);
    expect(editDistance('5162', '5612', 5, false)).toBe(2);
    expect(editDistance('ca', 'abc', 5, true)).toBe(3); // OSA, not unrestricted Damerau (2)
  });

  it('stops at max + 1', () => {
    expect(editDistance('kitten', 'sitting', 1, false)).toBe(2);
    expect(editDistance('abcdef', 'uvwxyz', 2, true)).toBe(3);
    expect(editDistance('a', 'abcdefgh', 2, true)).toBe(3);
  });
});
