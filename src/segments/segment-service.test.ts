import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ENGINES } from '../test-support/engines.js';
import { openSegmentHarness, type SegmentHarness } from '../test-support/segments.js';

const DAY = 86_400_000;
const START = Date.parse('2026-03-01T00:00:00Z');

describe.each(ENGINES)('segments on %s', (engine) => {
  let h: SegmentHarness;
  beforeEach(async () => {
    h = await openSegmentHarness(engine, START);
  });
  afterEach(async () => {
    await h.close();
  });

  it('streams memberships and leaves a window when it closes, with no new event', async () => {
    await h.ingest([
      { userId: 'u1', event: 'Viewed Product', timestamp: new Date(START - DAY) },
      { userId: 'u1', event: 'Viewed Product', timestamp: new Date(START - 2 * DAY) },
      { userId: 'u2', event: 'Viewed Product', timestamp: new Date(START - DAY) },
      { userId: 'u2', event: 'Purchase', timestamp: new Date(START - DAY) },
    ]);
    const seg = await h.segments.create({
      name: 'browsers',
      condition: {
        kind: 'all',
        conditions: [
          {
            kind: 'event',
            event: 'Viewed Product',
            window: { kind: 'last', amount: 7, unit: 'days' },
            measure: { kind: 'count', test: { operator: 'at_least', value: 2 } },
          },
          { kind: 'event', event: 'Purchase', performed: false, window: { kind: 'last', amount: 7, unit: 'days' } },
        ],
      },
    });
    expect(seg.mode).toBe('streaming');
    expect(seg.sentence).toBe(
      'Viewed Product at least 2 times in the last 7 days and did not Purchase in the last 7 days',
    );
    const u1 = h.identity.profileOfEvent('u1', null)!;
    const u2 = h.identity.profileOfEvent('u2', null)!;
    expect(await h.members(seg.id)).toEqual([u1]);
    await h.ingest([{ userId: 'u2', event: 'Viewed Product', timestamp: new Date(START) }]);
    expect(await h.members(seg.id)).toEqual([u1]);
    // u1's older view leaves the window at START + 5 days.
    h.clock.now = START + 5 * DAY + 1;
    await h.segments.tick();
    expect(await h.members(seg.id)).toEqual([]);
    const changes = await h.store.memberships.changes(seg.id, 0, 100);
    expect(changes.map((c) => [c.profileId, c.entered, c.reason.kind])).toEqual([
      [u1, true, 'recomputed'],
      [u1, false, 'time'],
    ]);
    const batch = await h.segments.membershipSql([seg.id], new Date(h.clock.now));
    expect(await h.store.db.query(batch.sql, batch.params)).toEqual([]);
  });
});
