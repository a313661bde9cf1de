import {
  assertNever,
  type BlockingKey,
  type BlockingRule,
  type BlockingTransform,
} from '../../core/index.js';
import type { RecordColumns } from './record-columns.js';
import { soundex } from './soundex.js';

/** A rule's blocks: record indices grouped by key (`order[starts[b]] .. order[starts[b + 1] - 1]`). */
export interface Blocks {
  readonly rule: BlockingRule;
  /** Per record, its dense block key, or -1 when a key field is missing (the record is in no block). */
  readonly keys: Int32Array;
  readonly order: Int32Array;
  readonly starts: Int32Array;
}

export function keyField(key: BlockingKey): string {
  return typeof key === 'string' ? key : key.field;
}

/** `surname`, `soundex(given_name)`, `prefix3(address_1)`: a rule as one readable line. */
export function describeRule(rule: BlockingRule): string {
  return rule.on
    .map((key) => {
      if (typeof key === 'string' || key.transform === undefined) return keyField(key);
      const t = key.transform;
      return t.kind === 'prefix' ? `prefix${t.length}(${key.field})` : `${t.kind}(${key.field})`;
    })
    .join(' & ');
}

/** Groups records by the rule's key, in linear time (keys are dense, so counting sorts, no hashing). */
export function buildBlocks(columns: RecordColumns, rule: BlockingRule): Blocks {
  let keys: Int32Array | undefined;
  let keyCount = 0;
  for (const key of rule.on) {
    const part = transformedCodes(columns, key);
    if (keys === undefined) {
      keys = part.codes;
      keyCount = part.count;
    } else {
      const combined = combineKeys(groupByKey(keys, keyCount), part.codes, part.count);
      keys = combined.keys;
      keyCount = combined.count;
    }
  }
  if (keys === undefined) throw new Error('a blocking rule needs at least one key');
  return { rule, keys, ...groupByKey(keys, keyCount) };
}

/** Record indices ordered by key (counting sort), with where each key's run starts. */
function groupByKey(keys: Int32Array, keyCount: number): { order: Int32Array; starts: Int32Array } {
  const starts = new Int32Array(keyCount + 1);
  for (let r = 0; r < keys.length; r++) if (keys[r]! >= 0) starts[keys[r]! + 1]!++;
  for (let b = 0; b < keyCount; b++) starts[b + 1]! += starts[b]!;
  const fill = starts.slice(0, keyCount);
  const order = new Int32Array(starts[keyCount]!);
  for (let r = 0; r < keys.length; r++) {
    const k = keys[r]!;
    if (k >= 0) order[fill[k]!++] = r;
  }
  return { order, starts };
}

/**
 * Dense keys of (previous key, part) pairs: within each group of the previous key, the first
 * record with a given part opens a new key (`seenIn` says in which group a part was last seen).
 */
function combineKeys(
  groups: { order: Int32Array; starts: Int32Array },
  part: Int32Array,
  partCount: number,
): { keys: Int32Array; count: number } {
  const keys = new Int32Array(part.length).fill(-1);
  const seenIn = new Int32Array(partCount).fill(-1);
  const keyOf = new Int32Array(partCount);
  let count = 0;
  for (let g = 0; g + 1 < groups.starts.length; g++) {
    for (let x = groups.starts[g]!; x < groups.starts[g + 1]!; x++) {
      const r = groups.order[x]!;
      const p = part[r]!;
      if (p < 0) continue;
      if (seenIn[p] !== g) {
        seenIn[p] = g;
        keyOf[p] = count++;
      }
      keys[r] = keyOf[p]!;
    }
  }
  return { keys, count };
}

/** Per record, a dense code of the (transformed) key value, -1 when missing or empty after the transform. */
function transformedCodes(columns: RecordColumns, key: BlockingKey): { codes: Int32Array; count: number } {
  const source = columns.column(keyField(key));
  const values = columns.dictionary(keyField(key)).values;
  const transform = typeof key === 'string' ? undefined : key.transform;
  // Value codes are already dense keys; only a transform (several values, one key) needs recoding.
  if (transform === undefined) return { codes: source, count: values.length };
  const byValueCode = new Int32Array(values.length).fill(-2);
  const byText = new Map<string, number>();
  const codes = new Int32Array(source.length);
  for (let r = 0; r < source.length; r++) {
    const v = source[r]!;
    if (v < 0) {
      codes[r] = -1;
      continue;
    }
    let code = byValueCode[v]!;
    if (code === -2) {
      const text = applyTransform(transform, values[v]!);
      code = text === '' ? -1 : (byText.get(text) ?? byText.size);
      if (code === byText.size) byText.set(text, code);
      byValueCode[v] = code;
    }
    codes[r] = code;
  }
  return { codes, count: byText.size };
}

function applyTransform(transform: BlockingTransform, value: string): string {
  switch (transform.kind) {
    case 'prefix':
      return value.slice(0, transform.length);
    case 'soundex':
      return soundex(value);
    default:
      return assertNever(transform);
  }
}

/** Pairs in the rule's blocks (each within its `maxBlockSize`), counting a pair once per rule. */
export function countBlockPairs(blocks: Blocks): number {
  let pairs = 0;
  const max = blocks.rule.maxBlockSize ?? Number.POSITIVE_INFINITY;
  for (let b = 0; b + 1 < blocks.starts.length; b++) {
    const size = blocks.starts[b + 1]! - blocks.starts[b]!;
    if (size <= max) pairs += (size * (size - 1)) / 2;
  }
  return pairs;
}

export interface PairVisitOptions {
  /** Blocks of earlier rules: a pair they already produce is skipped, so each pair is visited once. */
  earlier?: readonly Blocks[];
  /** Visit only this share of pairs, chosen by a hash of the pair (deterministic for a seed). */
  sampleRate?: number;
  seed?: number;
}

/** Visits every candidate pair (left < right) of `blocks`; returns how many blocks were too large. */
export function forEachBlockPair(
  blocks: Blocks,
  visit: (left: number, right: number) => void,
  options: PairVisitOptions = {},
): { skippedBlocks: number } {
  const earlier = (options.earlier ?? []).map((b) => b.keys);
  const rate = options.sampleRate ?? 1;
  const cutoff = Math.floor(rate * 4294967296);
  const seed = options.seed ?? 0;
  const max = blocks.rule.maxBlockSize ?? Number.POSITIVE_INFINITY;
  const { order, starts } = blocks;
  let skippedBlocks = 0;
  for (let b = 0; b + 1 < starts.length; b++) {
    const from = starts[b]!;
    const to = starts[b + 1]!;
    if (to - from < 2) continue;
    if (to - from > max) {
      skippedBlocks++;
      continue;
    }
    for (let x = from; x < to; x++) {
      const p = order[x]!;
      for (let y = x + 1; y < to; y++) {
        const q = order[y]!;
        if (rate < 1 && pairHash(p, q, seed) >= cutoff) continue;
        if (earlier.length > 0 && agreesOnAny(earlier, p, q)) continue;
        // Records are placed in blocks in index order, so p < q.
        visit(p, q);
      }
    }
  }
  return { skippedBlocks };
}

function agreesOnAny(keys: readonly Int32Array[], p: number, q: number): boolean {
  for (let k = 0; k < keys.length; k++) {
    const a = keys[k]![p]!;
    if (a >= 0 && a === keys[k]![q]) return true;
  }
  return false;
}

/** A well-mixed 32-bit hash of an unordered-by-convention pair (p < q) and a seed. */
export function pairHash(p: number, q: number, seed: number): number {
  let h = Math.imul(p ^ seed, 0x9e3779b1) ^ Math.imul(q + 0x7f4a7c15, 0x85ebca77);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}
