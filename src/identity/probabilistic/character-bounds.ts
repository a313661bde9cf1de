/**
 * Cheap bounds that skip most string comparisons between unrelated values: a character of one
 * value that never occurs in the other can neither be a Jaro match nor be kept without an edit.
 * Characters are hashed to 32 bits (`code & 31`); a collision only loosens a bound.
 */
export interface CharacterSets {
  readonly lengths: Int32Array;
  readonly masks: Int32Array;
}

/** Length and character set of every value, indexed by value code. */
export function characterSets(values: readonly string[]): CharacterSets {
  const lengths = new Int32Array(values.length);
  const masks = new Int32Array(values.length);
  values.forEach((value, code) => {
    let mask = 0;
    for (let i = 0; i < value.length; i++) mask |= 1 << (value.charCodeAt(i) & 31);
    lengths[code] = value.length;
    masks[code] = mask;
  });
  return { lengths, masks };
}

/** An upper bound of the Jaro-Winkler similarity of values `a` and `b` (by code). */
export function jaroWinklerBound(sets: CharacterSets, a: number, b: number): number {
  const la = sets.lengths[a]!;
  const lb = sets.lengths[b]!;
  const ma = sets.masks[a]!;
  const mb = sets.masks[b]!;
  const matches = Math.min(la - bitCount(ma & ~mb), lb - bitCount(mb & ~ma));
  if (matches <= 0) return 0;
  const jaro = (matches / la + matches / lb + 1) / 3;
  return jaro <= 0.7 ? jaro : jaro + 0.4 * (1 - jaro);
}

/** A lower bound of the edit distance between values `a` and `b` (by code). */
export function editDistanceBound(sets: CharacterSets, a: number, b: number): number {
  const ma = sets.masks[a]!;
  const mb = sets.masks[b]!;
  return Math.max(Math.abs(sets.lengths[a]! - sets.lengths[b]!), bitCount(ma & ~mb), bitCount(mb & ~ma));
}

function bitCount(x: number): number {
  let v = x - ((x >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
}
