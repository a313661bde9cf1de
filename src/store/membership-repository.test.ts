import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ENGINES, openTestStore, type TestStore } from '../test-support/engines.js';
import type { LedgerChange } from './index.js';

const AT = Date.parse('2026-03-01T00:00:00Z');

const change = (segmentId: string, profileId: string, entered: boolean, minute: number): LedgerChange => ({
  segmentId,
  profileId,
  entered,
  at: new Date(AT + minute * 60_000),
  reason: { kind: 'event', messageId: `m${minute}` },
});

describe.each(ENGINES)('membership ledger on %s', (engine) => {
  let t: TestStore;
  beforeEach(async () => {
    t = await openTestStore(engine);
  });
  afterEach(async () => {
    await t.cleanup();
  });

  it('records every change in order and keeps the members the last change of each key says', async () => {
    const m = t.store.memberships;
    await m.record(
      [change('s1', 'p1', true, 0), change('s1', 'p2', true, 0), change('s2', 'p1', true, 0)],
      'streaming',
    );
    const first = await m.record(
      [
        // A member leaves and comes back: a member since the return.
        change('s1', 'p1', false, 1),
        change('s1', 'p1', true, 2),
        // A member leaves.
        change('s1', 'p2', false, 2),
        // A newcomer enters and leaves within the batch: never a member.
        change('s1', 'p3', true, 1),
        change('s1', 'p3', false, 3),
        // A newcomer stays.
        change('s2', 'p4', true, 3),
      ],
      'streaming',
    );
    expect(first).toBe(4);
    const ledger = await m.changes('s1', 0, 100);
    expect(ledger.map((c) => [c.seq, c.profileId, c.entered, c.reason.messageId])).toEqual([
      [1, 'p1', true, 'm0'],
      [2, 'p2', true, 'm0'],
      [4, 'p1', false, 'm1'],
      [5, 'p1', true, 'm2'],
      [6, 'p2', false, 'm2'],
      [7, 'p3', true, 'm1'],
      [8, 'p3', false, 'm3'],
    ]);
    expect(ledger.every((c) => c.mode === 'streaming')).toBe(true);
    expect(await m.members('s1', 10)).toEqual([{ profileId: 'p1', since: new Date(AT + 2 * 60_000) }]);
    expect((await m.members('s2', 10)).map((r) => r.profileId)).toEqual(['p1', 'p4']);
    expect(await m.sizes()).toEqual(
      new Map([
        ['s1', 1],
        ['s2', 2],
      ]),
    );
  });

  it('writes nothing of a batch that fails', async () => {
    const m = t.store.memberships;
    await m.record([change('s1', 'p1', true, 0)], 'streaming');
    // A change without a profile id breaks the NOT NULL constraint of the ledger.
    const broken = { ...change('s1', 'p2', true, 1), profileId: null as unknown as string };
    await expect(m.record([change('s1', 'p1', false, 1), broken], 'streaming')).rejects.toThrow();
    expect((await m.changes('s1', 0, 10)).map((c) => c.seq)).toEqual([1]);
    expect((await m.members('s1', 10)).map((r) => r.profileId)).toEqual(['p1']);
    // The numbers of a failed batch are used by the next one: the ledger has no gap.
    expect(await m.record([change('s1', 'p1', false, 2)], 'streaming')).toBe(2);
  });
});
