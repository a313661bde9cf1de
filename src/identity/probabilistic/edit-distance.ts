import { type CharacterBuffer, characterBuffer } from './character-buffer.js';

let previous = new Int32Array(64);
let current = new Int32Array(64);
let beforePrevious = new Int32Array(64);

/**
 * Edit distance between the values at `a` and `b` of a character buffer, capped at `max + 1`
 * (anything further is "too far"). With `transpositions`, swapping two adjacent characters is
 * one edit (optimal string alignment).
 */
export function editDistanceAt(
  buffer: CharacterBuffer,
  a: number,
  b: number,
  max: number,
  transpositions: boolean,
): number {
  const { chars, offsets } = buffer;
  const oa = offsets[a]!;
  const ob = offsets[b]!;
  const la = offsets[a + 1]! - oa;
  const lb = offsets[b + 1]! - ob;
  if (Math.abs(la - lb) > max) return max + 1;
  if (la === 0 || lb === 0) return Math.min(Math.max(la, lb), max + 1);
  if (previous.length <= lb) {
    previous = new Int32Array(lb * 2 + 1);
    current = new Int32Array(lb * 2 + 1);
    beforePrevious = new Int32Array(lb * 2 + 1);
  }
  let prev = previous;
  let cur = current;
  let before = beforePrevious;
  for (let j = 0; j <= lb; j++) prev[j] = j;
  for (let i = 1; i <= la; i++) {
    const ca = chars[oa + i - 1]!;
    cur[0] = i;
    let rowMin = i;
    for (let j = 1; j <= lb; j++) {
      const cb = chars[ob + j - 1]!;
      let d = prev[j - 1]! + (ca === cb ? 0 : 1);
      if (prev[j]! + 1 < d) d = prev[j]! + 1;
      if (cur[j - 1]! + 1 < d) d = cur[j - 1]! + 1;
      if (
        transpositions &&
        i > 1 &&
        j > 1 &&
        ca === chars[ob + j - 2] &&
        chars[oa + i - 2] === cb &&
        before[j - 2]! + 1 < d
      ) {
        d = before[j - 2]! + 1;
      }
      cur[j] = d;
      if (d < rowMin) rowMin = d;
    }
    if (rowMin > max) return max + 1;
    const spare = before;
    before = prev;
    prev = cur;
    cur = spare;
  }
  return Math.min(prev[lb]!, max + 1);
}

/**
 * Edit distance between `a` and `b`, capped at `max + 1`. With `transpositions`, swapping two
 * adjacent characters is one edit: `editDistance('5162', '5612', 2, true)` → 1; without, 2.
 */
export function editDistance(a: string, b: string, max: number, transpositions: boolean): number {
  return editDistanceAt(characterBuffer([a, b]), 0, 1, max, transpositions);
}
