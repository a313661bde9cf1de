import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ENGINES, openTestStore, type TestStore } from '../test-support/engines.js';
import { type LedgerChange, openStore } from './index.js';

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

  it('reads the members the ledger says while the members table lags behind it', async () => {
    const m = t.store.memberships;
    await m.record([change('s1', 'p1', true, 0), change('s1', 'p2', true, 0)], 'streaming');
    await m.applyToMembers();
    await m.record([change('s1', 'p1', false, 1), change('s1', 'p3', true, 1)], 'streaming');
    // Committed to the ledger only: the table itself still holds the members before the changes.
    const table = async () =>
      (
        await t.store.db.query<{ profile_id: string }>(
          "SELECT profile_id FROM segment_members WHERE segment_id = 's1' ORDER BY profile_id",
        )
      ).map((r) => r.profile_id);
    expect(await table()).toEqual(['p1', 'p2']);
    // Every read of the members sees the ledger's changes.
    expect((await m.members('s1', 10)).map((r) => r.profileId)).toEqual(['p2', 'p3']);
    expect(await table()).toEqual(['p2', 'p3']);
    await m.record([change('s1', 'p2', false, 2)], 'streaming');
    expect(await m.count('s1')).toBe(1);
    await m.record([change('s2', 'p3', true, 3)], 'streaming');
    expect(await m.sizes()).toEqual(
      new Map([
        ['s1', 1],
        ['s2', 1],
      ]),
    );
    await m.record([change('s2', 'p3', false, 4), change('s1', 'p4', true, 4)], 'streaming');
    expect((await m.ofProfile('p3')).map((r) => r.segmentId)).toEqual(['s1']);
    const members: string[] = [];
    await m.membersOf(['s1', 's2'], (rows) =>
      members.push(...rows.map((r) => `${r.segment_id}:${r.profile_id}`)),
    );
    expect(members).toEqual(['s1:p3', 's1:p4']);
  });

  it('compares a batch evaluation with the members after every streaming change, and marks its own changes applied', async () => {
    const m = t.store.memberships;
    await m.record([change('s1', 'p1', true, 0), change('s1', 'p2', true, 0)], 'streaming');
    // Only in the ledger when the evaluation starts: p2 has left.
    await m.record([change('s1', 'p2', false, 1)], 'streaming');
    const result = {
      sql: "SELECT 's1' AS segment_id, profile_id FROM (VALUES ('p1'), ('p3')) v(profile_id)",
      params: [],
    };
    const [counts] = await m.replaceMembers(['s1'], result, new Date(AT + 5 * 60_000), {
      kind: 'evaluation',
    });
    // p2's exit is not recorded twice; p3 enters.
    expect(counts).toEqual({ segmentId: 's1', entered: 1, exited: 0, members: 2 });
    const [through] = await t.store.db.query<{ value: number }>(
      "SELECT value FROM counters WHERE name = 'segment_members_through'",
    );
    expect(Number(through?.value)).toBe(4);
    expect((await m.members('s1', 10)).map((r) => r.profileId)).toEqual(['p1', 'p3']);
  });

  it('numbers a batch evaluation exits first, then by segment, and leaves no gap after it or after a failed one', async () => {
    const m = t.store.memberships;
    await m.record(
      [change('s1', 'p1', true, 0), change('s2', 'p9', true, 0), change('s2', 'p8', true, 0)],
      'streaming',
    );
    const rows = (pairs: string[][]) => ({
      sql: `SELECT segment_id, profile_id FROM (VALUES ${pairs.map((p) => `('${p[0]}', '${p[1]}')`).join(', ')}) v(segment_id, profile_id)`,
      params: [],
    });
    const at = new Date(AT + 5 * 60_000);
    const counts = await m.replaceMembers(
      ['s1', 's2'],
      rows([
        ['s2', 'p3'],
        ['s1', 'p2'],
        ['s2', 'p1'],
        ['s1', 'p1'],
      ]),
      at,
      { kind: 'evaluation' },
    );
    expect(counts).toEqual([
      { segmentId: 's1', entered: 1, exited: 0, members: 2 },
      { segmentId: 's2', entered: 2, exited: 2, members: 2 },
    ]);
    const ledger = [...(await m.changes('s1', 3, 10)), ...(await m.changes('s2', 3, 10))].sort(
      (a, b) => a.seq - b.seq,
    );
    // Within a group the profiles take its numbers in no set order.
    expect(ledger.map((c) => [c.seq, c.segmentId, c.entered, c.mode])).toEqual([
      [4, 's2', false, 'batch'],
      [5, 's2', false, 'batch'],
      [6, 's1', true, 'batch'],
      [7, 's2', true, 'batch'],
      [8, 's2', true, 'batch'],
    ]);
    const profilesOf = (seqs: number[]) =>
      ledger
        .filter((c) => seqs.includes(c.seq))
        .map((c) => c.profileId)
        .sort();
    expect([profilesOf([4, 5]), profilesOf([6]), profilesOf([7, 8])]).toEqual([
      ['p8', 'p9'],
      ['p2'],
      ['p1', 'p3'],
    ]);
    expect((await m.members('s2', 10)).map((r) => [r.profileId, r.since])).toEqual([
      ['p1', at],
      ['p3', at],
    ]);
    // An evaluation whose statement fails takes no numbers.
    await expect(
      m.replaceMembers(['s1'], { sql: 'SELECT no_such_column FROM segment_members', params: [] }, at, {
        kind: 'evaluation',
      }),
    ).rejects.toThrow();
    expect(await m.record([change('s1', 'p1', false, 6)], 'streaming')).toBe(9);
    // Nothing changed: nothing is numbered.
    const again = await m.replaceMembers(
      ['s2'],
      rows([
        ['s2', 'p1'],
        ['s2', 'p3'],
      ]),
      at,
      { kind: 'evaluation' },
    );
    expect(again).toEqual([{ segmentId: 's2', entered: 0, exited: 0, members: 2 }]);
    expect(await m.record([change('s1', 'p5', true, 7)], 'streaming')).toBe(10);
  });

  it.runIf(engine === 'postgres')(
    'records streaming changes while a batch evaluation is computed, and numbers the batch after them',
    async () => {
      const m = t.store.memberships;
      // A statement that takes a while: the ledger is not held while it runs.
      const slow = {
        sql: "SELECT 's1' AS segment_id, profile_id FROM (VALUES ('p1')) v(profile_id) CROSS JOIN (SELECT pg_sleep(1)) s",
        params: [],
      };
      const done: string[] = [];
      const batch = m
        .replaceMembers(['s1'], slow, new Date(AT), { kind: 'evaluation' })
        .then(() => done.push('batch'));
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(await m.record([change('s2', 'p2', true, 1)], 'streaming')).toBe(1);
      done.push('streaming');
      await batch;
      expect(done).toEqual(['streaming', 'batch']);
      expect((await m.changes('s1', 0, 10)).map((c) => [c.seq, c.profileId, c.mode])).toEqual([
        [2, 'p1', 'batch'],
      ]);
    },
  );

  it('applies the changes a stopped process left in the ledger alone when the store opens again', async () => {
    await t.store.memberships.record([change('s1', 'p1', true, 0), change('s1', 'p2', true, 0)], 'streaming');
    await t.store.memberships.applyToMembers();
    // Committed, but the process stops before the members table follows.
    await t.store.memberships.record(
      [change('s1', 'p1', false, 1), change('s1', 'p3', true, 2)],
      'streaming',
    );
    await t.store.close();
    const again = await openStore(t.location);
    try {
      expect(await again.memberships.members('s1', 10)).toEqual([
        { profileId: 'p2', since: new Date(AT) },
        { profileId: 'p3', since: new Date(AT + 2 * 60_000) },
      ]);
      // The ledger goes on from where it was, and so do the members.
      expect(await again.memberships.record([change('s1', 'p2', false, 3)], 'streaming')).toBe(5);
      expect((await again.memberships.members('s1', 10)).map((r) => r.profileId)).toEqual(['p3']);
    } finally {
      await again.close();
    }
  });

  it('keeps the seq of the event that caused a change and reads its name and message id from the event', async () => {
    const m = t.store.memberships;
    const viewed = (messageId: string, event: string) => ({
      messageId,
      sourceId: 'src',
      type: 'track' as const,
      userId: 'u1',
      anonymousId: null,
      event,
      groupId: null,
      previousId: null,
      timestamp: new Date(AT),
      originalTimestamp: null,
      sentAt: null,
      receivedAt: new Date(AT),
      properties: {},
      traits: {},
      context: {},
    });
    const seq = await t.store.events.append([
      viewed('e1', 'Product Viewed'),
      viewed('e2', 'Order Completed'),
    ]);
    const byEvent = (n: number, messageId: string, event: string) => ({
      kind: 'event',
      event,
      messageId,
      seq: n,
    });
    const reasons = [
      byEvent(seq, 'e1', 'Product Viewed'),
      byEvent(seq + 1, 'e2', 'Order Completed'),
      // Not the evaluator's shape (a key more): kept whole, as any other reason.
      { ...byEvent(seq, 'e1', 'Product Viewed'), note: 'kept' },
      { kind: 'merge', into: 'p9' },
      // An event no longer stored (a failed import's, removed before it is redone).
      byEvent(seq + 99, 'gone', 'Page Viewed'),
    ];
    const at = (minute: number) => new Date(AT + minute * 60_000);
    const recordAll = (segmentId: string) =>
      m.record(
        reasons.map((reason, i) => ({ segmentId, profileId: `p${i}`, entered: true, at: at(i % 2), reason })),
        'streaming',
      );
    await recordAll('s1');
    const ledger = await m.changes('s1', 0, 10);
    expect(ledger.map((c) => [c.profileId, c.at, c.reason])).toEqual([
      ['p0', at(0), reasons[0]],
      ['p1', at(1), reasons[1]],
      ['p2', at(0), reasons[2]],
      ['p3', at(1), reasons[3]],
      ['p4', at(0), { kind: 'event', seq: seq + 99 }],
    ]);
    const [stored] = await t.store.db.query<{ n: number }>(
      'SELECT count(*) AS n FROM segment_changes WHERE reason IS NULL AND event_seq IS NOT NULL',
    );
    expect(Number(stored?.n)).toBe(3);
    // Ids the text path cannot carry go through the rows path: the same ledger comes back.
    await recordAll('s\t2');
    expect((await m.changes('s\t2', 0, 10)).map((c) => c.reason)).toEqual(ledger.map((c) => c.reason));
  });

  it('numbers the changes an event caused in their order, among other changes of the same batch', async () => {
    const m = t.store.memberships;
    await m.record([change('s0', 'p0', true, 0)], 'streaming');
    const at = (minute: number) => new Date(AT + minute * 60_000);
    // Events not stored: their reasons read back as their seqs.
    const first = { kind: 'event', event: 'Product Viewed', messageId: 'e1', seq: 101 };
    const second = { kind: 'event', event: 'Product Viewed', messageId: 'e2', seq: 102 };
    const merge = { kind: 'merge', into: 'p2' };
    const batch: [string, string, boolean, Date, Record<string, unknown>][] = [
      // What one event changed for one profile, then the next event of the same profile.
      ['s1', 'p1', true, at(1), first],
      ['s2', 'p1', false, at(1), first],
      ['s3', 'p1', true, at(1), first],
      ['s1', 'p1', false, at(1), second],
      // Another profile, the same reason: a run of its own.
      ['s2', 'p2', true, at(1), second],
      // The same profile and reason at a later time.
      ['s2', 'p2', false, at(2), second],
      ['s3', 'p1', false, at(2), merge],
      ['s0', 'p0', false, at(2), merge],
    ];
    const recorded = await m.record(
      batch.map(([segmentId, profileId, entered, time, reason]) => ({
        segmentId,
        profileId,
        entered,
        at: time,
        reason,
      })),
      'streaming',
    );
    expect(recorded).toBe(2);
    const ledger = [];
    for (const s of ['s0', 's1', 's2', 's3']) ledger.push(...(await m.changes(s, 1, 100)));
    ledger.sort((a, b) => a.seq - b.seq);
    const readBack = (reason: Record<string, unknown>) =>
      reason.kind === 'event' ? { kind: 'event', seq: reason.seq } : reason;
    expect(ledger.map((c) => [c.seq, c.segmentId, c.profileId, c.entered, c.at, c.reason])).toEqual(
      batch.map(([segmentId, profileId, entered, time, reason], i) => [
        recorded + i,
        segmentId,
        profileId,
        entered,
        time,
        readBack(reason),
      ]),
    );
    expect((await m.ofProfile('p1')).map((r) => r.segmentId)).toEqual([]);
    expect(await m.ofProfile('p0')).toEqual([]);
  });

  it('records ids that hold tabs or line breaks as they are', async () => {
    const m = t.store.memberships;
    await m.record([change('s1', 'p\t1', true, 0), change('s\n2', 'p2', true, 1)], 'streaming');
    expect((await m.changes('s1', 0, 10)).map((c) => [c.seq, c.profileId, c.reason.messageId])).toEqual([
      [1, 'p\t1', 'm0'],
    ]);
    expect(await m.ofProfile('p2')).toEqual([{ segmentId: 's\n2', since: new Date(AT + 60_000) }]);
  });
});
