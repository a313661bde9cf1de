import { type CharacterBuffer, characterBuffer } from './character-buffer.js';

// Scratch space reused across calls (matching compares tens of millions of short strings):
// `matchedB[j] === stamp` marks a character of b already matched in the current call, so the
// array never needs clearing; `positionsA` lists the matched positions of a in order.
let matchedB = new Int32Array(64);
let positionsA = new Int32Array(64);
let stamp = 0;

/**
 * Jaro similarity of the values at `a` and `b` of a character buffer (offsets into `chars`).
 * Works on typed arrays rather than strings: about twice as fast in V8.
 */
export function jaroAt(buffer: CharacterBuffer, a: number, b: number): number {
  const { chars, offsets } = buffer;
  const oa = offsets[a]!;
  const ob = offsets[b]!;
  const la = offsets[a + 1]! - oa;
  const lb = offsets[b + 1]! - ob;
  if (la === 0 || lb === 0) return 0;
  if (matchedB.length < lb) matchedB = new Int32Array(lb * 2);
  if (positionsA.length < la) positionsA = new Int32Array(la * 2);
  if (stamp === 0x7fffffff) {
    matchedB.fill(0);
    stamp = 0;
  }
  const mark = ++stamp;
  const flags = matchedB;
  const positions = positionsA;
  const longest = Math.max(la, lb);
  const window = longest >> 1 > 0 ? (longest >> 1) - 1 : 0;
  let matches = 0;
  for (let i = 0; i < la; i++) {
    const c = chars[oa + i];
    const from = i > window ? i - window : 0;
    const to = Math.min(i + window, lb - 1);
    for (let j = from; j <= to; j++) {
      if (flags[j] !== mark && chars[ob + j] === c) {
        flags[j] = mark;
        positions[matches++] = i;
        break;
      }
    }
  }
  if (matches === 0) return 0;
  let halfTranspositions = 0;
  let j = 0;
  for (let x = 0; x < matches; x++) {
    while (flags[j] !== mark) j++;
    if (chars[oa + positions[x]!] !== chars[ob + j]) halfTranspositions++;
    j++;
  }
  return (matches / la + matches / lb + (matches - halfTranspositions / 2) / matches) / 3;
}

/** Jaro-Winkler of the values at `a` and `b` of a character buffer (see `jaroWinkler`). */
export function jaroWinklerAt(buffer: CharacterBuffer, a: number, b: number, prefixScale = 0.1): number {
  const j = jaroAt(buffer, a, b);
  if (j <= 0.7) return j;
  const { chars, offsets } = buffer;
  const oa = offsets[a]!;
  const ob = offsets[b]!;
  const max = Math.min(4, offsets[a + 1]! - oa, offsets[b + 1]! - ob);
  let prefix = 0;
  while (prefix < max && chars[oa + prefix] === chars[ob + prefix]) prefix++;
  return j + prefix * prefixScale * (1 - j);
}

/** Jaro similarity in [0, 1]: `jaro('martha', 'marhta')` → 0.944. */
export function jaro(a: string, b: string): number {
  return jaroAt(characterBuffer([a, b]), 0, 1);
}

/**
 * Jaro-Winkler similarity (Winkler 1990): Jaro plus a bonus for a common prefix of up to four
 * characters, applied when Jaro exceeds 0.7. `jaroWinkler('martha', 'marhta')` → 0.961.
 */
export function jaroWinkler(a: string, b: string, prefixScale = 0.1): number {
  return jaroWinklerAt(characterBuffer([a, b]), 0, 1, prefixScale);
}
