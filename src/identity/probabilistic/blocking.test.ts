import { describe, expect, it } from 'vitest';
import { type BlockingRule, BlockingRuleSchema } from '../../core/index.js';
import { type Blocks, buildBlocks, countBlockPairs, describeRule, forEachBlockPair } from './blocking.js';
import { RecordColumns } from './record-columns.js';

const people = [
  { first: 'robert', last: 'smith', zip: '2000' }, // 0
  { first: 'rupert', last: 'smith', zip: '2000' }, // 1
  { first: 'robert', last: 'smyth', zip: '2001' }, // 2
  { first: 'ann', last: 'smith', zip: '2000' }, // 3
  { first: 'anna', last: null, zip: '2000' }, // 4
  { first: 'Robert ', last: 'Smith', zip: '3000' }, // 5
];
const columns = new RecordColumns(people.length, ['first', 'last', 'zip'], [], (r) => people[r]!);
const rule = (input: unknown): BlockingRule => BlockingRuleSchema.parse(input);

function pairs(blocks: Blocks, earlier: Blocks[] = []): string[] {
  const out: string[] = [];
  forEachBlockPair(blocks, (i, j) => out.push(`${i}-${j}`), { earlier });
  return out.sort();
}

describe('blocking', () => {
  it('pairs the records that agree on every key of a rule, missing values agreeing with nothing', () => {
    const byName = buildBlocks(columns, rule({ on: ['first', 'last'] }));
    expect(pairs(byName)).toEqual(['0-5']);
    const byLast = buildBlocks(columns, rule({ on: ['last'] }));
    expect(pairs(byLast)).toEqual(['0-1', '0-3', '0-5', '1-3', '1-5', '3-5']);
    expect(countBlockPairs(byLast)).toBe(6);
  });

  it('applies prefix and soundex transforms to the values', () => {
    const prefix = buildBlocks(
      columns,
      rule({ on: [{ field: 'zip', transform: { kind: 'prefix', length: 3 } }] }),
    );
    expect(pairs(prefix)).toEqual(['0-1', '0-2', '0-3', '0-4', '1-2', '1-3', '1-4', '2-3', '2-4', '3-4']);
    const sound = buildBlocks(
      columns,
      rule({
        on: [
          { field: 'first', transform: { kind: 'soundex' } },
          { field: 'last', transform: { kind: 'soundex' } },
        ],
      }),
    );
    // robert, rupert → R163; smith, smyth → S530.
    expect(pairs(sound)).toEqual(['0-1', '0-2', '0-5', '1-2', '1-5', '2-5']);
    expect(describeRule(sound.rule)).toBe('soundex(first) & soundex(last)');
  });

  it('visits a pair once over several rules: a later rule skips pairs an earlier one produced', () => {
    const rules = [rule({ on: ['first', 'last'] }), rule({ on: ['zip'] }), rule({ on: ['last'] })];
    const blocks = rules.map((r) => buildBlocks(columns, r));
    const all = blocks.flatMap((b, r) => pairs(b, blocks.slice(0, r)));
    expect(all.sort()).toEqual(['0-1', '0-3', '0-4', '0-5', '1-3', '1-4', '1-5', '3-4', '3-5']);
    expect(new Set(all).size).toBe(all.length);
    expect(pairs(blocks[1]!, blocks.slice(0, 1))).toEqual(['0-1', '0-3', '0-4', '1-3', '1-4', '3-4']);
  });

  it('skips blocks larger than maxBlockSize and says how many', () => {
    const blocks = buildBlocks(columns, rule({ on: ['zip'], maxBlockSize: 3 }));
    const visited: string[] = [];
    const { skippedBlocks } = forEachBlockPair(blocks, (i, j) => visited.push(`${i}-${j}`));
    expect(visited).toEqual([]);
    expect(skippedBlocks).toBe(1);
  });

  it('samples pairs deterministically at about the rate asked', () => {
    const rows = Array.from({ length: 2000 }, (_, i) => ({ k: String(i % 4) }));
    const many = new RecordColumns(rows.length, ['k'], [], (r) => rows[r]!);
    const blocks = buildBlocks(many, rule({ on: ['k'] }));
    const sample = (seed: number) => {
      const out: number[] = [];
      forEachBlockPair(blocks, (i, j) => out.push(i * rows.length + j), { sampleRate: 0.01, seed });
      return out;
    };
    const a = sample(1);
    expect(a.length / countBlockPairs(blocks)).toBeCloseTo(0.01, 2);
    expect(sample(1)).toEqual(a);
    expect(sample(2)).not.toEqual(a);
  });
});
