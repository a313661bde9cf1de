import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StoredEvent } from '../core/index.js';
import { IdentityService } from '../identity/index.js';
import { openStore } from '../store/index.js';
import { ENGINES, openTestStore } from '../test-support/engines.js';
import { openSegmentHarness, type SegmentHarness, trackEvent } from '../test-support/segments.js';
import { SegmentService } from './segment-service.js';

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

  /** The members of a segment as batch SQL computes them now. */
  const batchMembers = async (segmentId: string) => {
    const batch = h.segments.membershipSql([segmentId], new Date(h.clock.now));
    return (await h.store.db.query(batch.sql, batch.params)).map((r) => String(r.profile_id)).sort();
  };
  /** The members a segment's ledger adds up to. */
  const ledgerMembers = async (segmentId: string) => {
    const members = new Set<string>();
    for (const c of await h.store.memberships.changes(segmentId, 0, 1000))
      if (c.entered) members.add(c.profileId);
      else members.delete(c.profileId);
    return [...members].sort();
  };
  /** Stores events and hands them to segments alone: identity stitches them when offered them. */
  const offerToSegments = async (events: readonly Partial<StoredEvent>[]) => {
    const stored = events.map((e) => trackEvent({ timestamp: new Date(START), ...e }, h.sourceId));
    const first = await h.store.events.append(stored);
    h.segments.offer(first, stored);
    await h.segments.settle();
    return { first, stored };
  };
  /** u0, who viewed a product, and u1, who signed up, a day before; and a segment of viewers. */
  const viewersOfTwo = async () => {
    await h.ingest([
      { userId: 'u0', event: 'Viewed Product', timestamp: new Date(START - DAY) },
      { userId: 'u1', event: 'Signed Up', timestamp: new Date(START - DAY) },
    ]);
    const viewers = await h.segments.create({
      name: 'viewers',
      condition: { kind: 'event', event: 'Viewed Product' },
    });
    return {
      viewers,
      u0: h.identity.profileOfEvent('u0', null)!,
      u1: h.identity.profileOfEvent('u1', null)!,
    };
  };
  /**
   * u1, who signed up a day before, and a segment of those who never purchased (u0 did); then a
   * new visitor's first event, handed to segments alone: its foreseen profile enters the segment.
   */
  const newVisitorNeverPurchased = async () => {
    await h.ingest([
      { userId: 'u1', event: 'Signed Up', timestamp: new Date(START - DAY) },
      { userId: 'u0', event: 'Purchased', timestamp: new Date(START - DAY) },
    ]);
    const never = await h.segments.create({
      name: 'never purchased',
      condition: { kind: 'event', event: 'Purchased', performed: false },
    });
    const u1 = h.identity.profileOfEvent('u1', null)!;
    const { first, stored } = await offerToSegments([{ anonymousId: 'device-2', event: 'Signed Up' }]);
    expect(await h.members(never.id)).toHaveLength(2);
    return { never, u1, first, stored };
  };
  /** Has identity stitch events offered to segments alone, then waits until segments are done. */
  const stitch = async ({ first, stored }: { first: number; stored: StoredEvent[] }) => {
    h.identity.offer(first, stored);
    await h.identity.settle();
    await h.segments.settle();
  };
  /** A segment's ledger as (profile, entered, kind of reason) rows. */
  const ledgerRows = async (segmentId: string) =>
    (await h.store.memberships.changes(segmentId, 0, 100)).map((c) => [
      c.profileId,
      c.entered,
      c.reason.kind,
    ]);
  /** A CRM record that links identifiers, stored for identity's next pass. */
  const crmRecord = async (identifiers: Record<string, string[]>) => {
    const crm = (await h.store.sources.create({ name: 'crm', kind: 'profiles' })).id;
    await h.store.records.append([
      {
        recordId: 'CRM-1',
        sourceId: crm,
        importId: null,
        rowNumber: null,
        identifiers,
        attributes: {},
        receivedAt: new Date(START),
      },
    ]);
  };

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
          {
            kind: 'event',
            event: 'Purchase',
            performed: false,
            window: { kind: 'last', amount: 7, unit: 'days' },
          },
        ],
      },
    });
    expect(seg.mode).toBe('streaming');
    expect(seg.sentence).toBe(
      'Viewed Product at least 2 times in the last 7 days and did not Purchase in the last 7 days',
    );
    const u1 = h.identity.profileOfEvent('u1', null)!;
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

  it('evaluates events of known profiles and new visitors on arrival; one that links identifiers waits for stitching', async () => {
    await h.ingest([
      { userId: 'u1', event: 'Signed Up', timestamp: new Date(START - 2 * DAY) },
      { anonymousId: 'a1', event: 'Signed Up', timestamp: new Date(START - DAY) },
      { userId: 'u2', event: 'Signed Up', timestamp: new Date(START - DAY) },
      // Someone else's two views: the event is known, and u0 is not in the segment.
      { userId: 'u0', event: 'Viewed Product', timestamp: new Date(START - DAY) },
      { userId: 'u0', event: 'Viewed Product', timestamp: new Date(START - DAY) },
    ]);
    const once = await h.segments.create({
      name: 'viewed once',
      condition: {
        kind: 'event',
        event: 'Viewed Product',
        measure: { kind: 'count', test: { operator: 'exactly', value: 1 } },
      },
    });
    const u1 = h.identity.profileOfEvent('u1', null)!;
    const a1 = h.identity.profileOfEvent(null, 'a1')!;
    const u2 = h.identity.profileOfEvent('u2', null)!;
    // Stored and handed to segments only: identity has not stitched them.
    const offer = async (events: Partial<StoredEvent>[]) => {
      const stored = events.map((e) => trackEvent({ timestamp: new Date(START), ...e }, h.sourceId));
      const first = await h.store.events.append(stored);
      h.segments.offer(first, stored);
      await h.segments.settle();
      return { first, stored };
    };
    const known = await offer([
      { userId: 'u1', anonymousId: 'a-new', event: 'Viewed Product' },
      { anonymousId: 'a1', event: 'Viewed Product' },
      { userId: 'u2', event: 'Viewed Product' },
      { userId: 'u-new', event: 'Viewed Product' },
    ]);
    expect(h.identity.eventsStitchedThrough).toBeLessThan(known.first);
    // The new user's too, for the profile stitching is to found for it.
    const arrived = await h.members(once.id);
    expect(arrived).toHaveLength(4);
    expect(arrived).toEqual(expect.arrayContaining([u1, a1, u2]));

    // The visitor signs in: a1's profile (younger) merges into u1's, which has now viewed twice.
    const link = await offer([{ userId: 'u1', anonymousId: 'a1', event: 'Signed In' }]);
    expect(await h.members(once.id)).toEqual(arrived);
    h.identity.offer(known.first, known.stored);
    h.identity.offer(link.first, link.stored);
    await h.identity.settle();
    await h.segments.settle();
    const uNew = h.identity.profileOfEvent('u-new', null)!;
    expect(arrived).toContain(uNew);
    const uNewChanges = (await h.store.memberships.changes(once.id, 0, 100)).filter(
      (c) => c.profileId === uNew,
    );
    expect(uNewChanges.map((c) => [c.entered, c.reason.kind])).toEqual([[true, 'event']]);
    expect(h.identity.profileOfEvent(null, 'a1')).toBe(u1);
    // Each event counted once, when stitched too: u1's two views, u2's and the new user's one.
    expect(await h.members(once.id)).toEqual([u2, uNew].sort());
    expect(await batchMembers(once.id)).toEqual([u2, uNew].sort());
  });

  it("leaves a new visitor's provisional profile as merged when stitching links its events elsewhere", async () => {
    const { viewers, u0, u1 } = await viewersOfTwo();
    // A device's first view, evaluated on arrival for the profile its anonymous id would found...
    const { first, stored } = await offerToSegments([{ anonymousId: 'device-2', event: 'Viewed Product' }]);
    const [visitor, ...others] = (await h.members(viewers.id)).filter((id) => id !== u0);
    expect(visitor).toBeDefined();
    expect(visitor).not.toBe(u1);
    expect(others).toEqual([]);
    // ...but a CRM record stitched in the same pass says the device is u1's.
    await crmRecord({ user_id: ['u1'], anonymous_id: ['device-2'] });

    await stitch({ first, stored });
    expect(h.identity.profileOfEvent(null, 'device-2')).toBe(u1);
    expect(await h.members(viewers.id)).toEqual([u0, u1].sort());
    const changes = (await h.store.memberships.changes(viewers.id, 0, 100)).filter((c) => c.profileId !== u0);
    expect(changes.map((c) => [c.profileId, c.entered, c.reason])).toEqual([
      [visitor, true, expect.objectContaining({ kind: 'event', seq: first })],
      [visitor, false, { kind: 'merge', into: u1 }],
      [u1, true, { kind: 'merge', into: u1 }],
    ]);
    expect(await batchMembers(viewers.id)).toEqual([u0, u1].sort());
  });

  it.each(['the segments restart', 'the segment service reopens'])(
    "drops a new visitor's foreseen profile that stitching does not found when %s before the pass",
    async (how) => {
      const { never, u1, first, stored } = await newVisitorNeverPurchased();
      // A CRM record says the device is u1's, and the segments start again before the pass.
      await crmRecord({ user_id: ['u1'], anonymous_id: ['device-2'] });
      if (how === 'the segments restart')
        await h.segments.create({ name: 'signed up', condition: { kind: 'event', event: 'Signed Up' } });
      else await h.reopen();

      await stitch({ first, stored });
      expect(h.identity.profileOfEvent(null, 'device-2')).toBe(u1);
      expect(await h.members(never.id)).toEqual([u1]);
      expect(await ledgerMembers(never.id)).toEqual([u1]);
      expect(await batchMembers(never.id)).toEqual([u1]);
    },
  );

  it("keeps a new visitor's profile when the pass that founds it commits while the segments load", async () => {
    const { never, u1, first, stored } = await newVisitorNeverPurchased();
    // The segments restart (over events that are not the visitor's), and the pass commits once
    // they have read the profiles identity knows.
    const { profileIds } = h.store.memberships;
    h.store.memberships.profileIds = async (onRows) => {
      await profileIds.call(h.store.memberships, onRows);
      h.store.memberships.profileIds = profileIds;
      h.identity.offer(first, stored);
      await h.identity.settle();
    };
    await h.segments.create({ name: 'buyers', condition: { kind: 'event', event: 'Purchased' } });
    await h.segments.settle();
    const visitor = h.identity.profileOfEvent(null, 'device-2')!;
    expect(await h.members(never.id)).toEqual([u1, visitor].sort());
    expect(await batchMembers(never.id)).toEqual([u1, visitor].sort());
    const changes = (await h.store.memberships.changes(never.id, 0, 100)).filter(
      (c) => c.profileId === visitor,
    );
    expect(changes.map((c) => [c.entered, c.reason.kind])).toEqual([[true, 'event']]);
  });

  it("keeps a new visitor's foreseen profile in its segments, without leaving and entering again, when the segments restart before the pass", async () => {
    const { viewers, u0 } = await viewersOfTwo();
    const { first, stored } = await offerToSegments([{ anonymousId: 'device-2', event: 'Viewed Product' }]);
    await h.segments.create({ name: 'signed up', condition: { kind: 'event', event: 'Signed Up' } });

    await stitch({ first, stored });
    const visitor = h.identity.profileOfEvent(null, 'device-2')!;
    expect(await ledgerRows(viewers.id)).toEqual([
      [u0, true, 'recomputed'],
      [visitor, true, 'event'],
    ]);
    expect(await batchMembers(viewers.id)).toEqual([u0, visitor].sort());
  });

  it('gives the events offered while the segments restart as the reasons of what they change', async () => {
    const { viewers, u0, u1 } = await viewersOfTwo();
    const restarted = h.segments.create({
      name: 'signed up',
      condition: { kind: 'event', event: 'Signed Up' },
    });
    const { first } = await offerToSegments([{ userId: 'u1', event: 'Viewed Product' }]);
    await restarted;
    await h.segments.settle();
    const changes = await h.store.memberships.changes(viewers.id, 0, 100);
    expect(changes.map((c) => [c.profileId, c.entered, c.reason.kind, c.reason.seq])).toEqual([
      [u0, true, 'recomputed', undefined],
      [u1, true, 'event', first],
    ]);
  });

  it('waits for the pass for a visitor whose device a known user named in an event just before', async () => {
    const { viewers, u0, u1 } = await viewersOfTwo();
    // u1's event names a new device; the next names the device and a new anonymous id, which the
    // pass links to u1 through the device: no profile of that anonymous id enters meanwhile.
    const { first, stored } = await offerToSegments([
      { userId: 'u1', event: 'Signed In', context: { device: { id: 'dev-9' } } },
      { anonymousId: 'a-9', event: 'Viewed Product', context: { device: { id: 'dev-9' } } },
    ]);
    expect(await h.members(viewers.id)).toEqual([u0]);

    await stitch({ first, stored });
    expect(h.identity.profileOfEvent(null, 'a-9')).toBe(u1);
    expect(await ledgerRows(viewers.id)).toEqual([
      [u0, true, 'recomputed'],
      [u1, true, 'event'],
    ]);
    expect(await batchMembers(viewers.id)).toEqual([u0, u1].sort());
  });

  it("follows identity's rebuild with other settings: a profile that loses an identifier leaves what its events gave", async () => {
    const { viewers, u0, u1 } = await viewersOfTwo();
    // u1 signs in on a device, whose views are then u1's.
    await h.ingest([
      { userId: 'u1', anonymousId: 'dev-1', event: 'Signed In' },
      { anonymousId: 'dev-1', event: 'Viewed Product' },
    ]);
    expect(await h.members(viewers.id)).toEqual([u0, u1].sort());
    // Device ids like this one no longer link anything: the views are nobody's.
    await h.identity.rebuild({ blocked: { anonymous_id: ['^dev-'] } });
    await h.segments.settle();
    expect(h.identity.profileOfEvent(null, 'dev-1')).toBeUndefined();
    expect(await batchMembers(viewers.id)).toEqual([u0]);
    expect(await h.members(viewers.id)).toEqual([u0]);
    expect(await ledgerMembers(viewers.id)).toEqual([u0]);
  });

  it("keeps a new visitor's provisional profile when stitching founds it but gives one of its events to another", async () => {
    await h.ingest([
      { type: 'identify', userId: 'u0', traits: { plan: 'gold' }, timestamp: new Date(START - DAY) },
    ]);
    const planned = await h.segments.create({
      name: 'on a plan',
      condition: { kind: 'attribute', attribute: 'plan', test: { operator: 'exists' } },
    });
    const u0 = h.identity.profileOfEvent('u0', null)!;
    // Two new users on one device: the second's identify call is foreseen on the first's profile,
    // through the device, but a profile holds one user id, so the pass founds a profile for each.
    const stored = ['x1', 'x2'].map((userId) =>
      trackEvent(
        {
          type: 'identify',
          event: null,
          userId,
          anonymousId: 'shared',
          traits: { plan: 'silver' },
          timestamp: new Date(START),
        },
        h.sourceId,
      ),
    );
    const first = await h.store.events.append(stored);
    h.segments.offer(first, stored);
    await stitch({ first, stored });
    const x1 = h.identity.profileOfEvent('x1', 'shared')!;
    const x2 = h.identity.profileOfEvent('x2', 'shared')!;
    expect(x2).not.toBe(x1);
    expect(await h.members(planned.id)).toEqual([u0, x1, x2].sort());
    expect(await ledgerMembers(planned.id)).toEqual([u0, x1, x2].sort());
    expect(await batchMembers(planned.id)).toEqual([u0, x1, x2].sort());
  });
});

describe.each(ENGINES)('segment ledger reasons on %s', (engine) => {
  let h: SegmentHarness;
  beforeEach(async () => {
    h = await openSegmentHarness(engine, START);
  });
  afterEach(async () => {
    await h.close();
  });

  it('records attribute changes and merges as the reasons for entries and exits', async () => {
    await h.ingest([
      { type: 'identify', userId: 'u1', traits: { plan: 'silver' } },
      { anonymousId: 'a1', event: 'Product Viewed' },
    ]);
    const gold = await h.segments.create({
      name: 'gold',
      condition: { kind: 'attribute', attribute: 'plan', test: { operator: 'equals', value: 'gold' } },
    });
    const viewers = await h.segments.create({
      name: 'viewers',
      condition: { kind: 'event', event: 'Product Viewed' },
    });
    const anonymous = h.identity.profileOfEvent(null, 'a1')!;
    expect(await h.members(viewers.id)).toEqual([anonymous]);
    expect(await h.members(gold.id)).toEqual([]);

    // The visitor signs in: a1 joins u1's profile, which becomes gold.
    await h.ingest([{ type: 'identify', userId: 'u1', anonymousId: 'a1', traits: { plan: 'gold' } }]);
    const u1 = h.identity.profileOfEvent('u1', null)!;
    expect(h.identity.profileOfEvent(null, 'a1')).toBe(u1);
    expect(await h.members(gold.id)).toEqual([u1]);
    expect(await h.members(viewers.id)).toEqual([u1]);
    const reasons = async (id: string) =>
      (await h.store.memberships.changes(id, 0, 100)).map((c) => [c.profileId, c.entered, c.reason]);
    expect(await reasons(gold.id)).toEqual([[u1, true, { kind: 'merge', into: u1 }]]);
    // A plain attribute change, with no merge.
    await h.ingest([{ type: 'identify', userId: 'u1', traits: { plan: 'silver' } }]);
    expect(await reasons(gold.id)).toEqual([
      [u1, true, { kind: 'merge', into: u1 }],
      [u1, false, { kind: 'profile' }],
    ]);
    // u1 is older: the visitor's profile merges into it.
    expect(anonymous).not.toBe(u1);
    expect(await reasons(viewers.id)).toEqual([
      [anonymous, true, { kind: 'recomputed' }],
      [anonymous, false, { kind: 'merge', into: u1 }],
      [u1, true, { kind: 'merge', into: u1 }],
    ]);
  });
});

describe('segments shared by two processes on postgres', () => {
  it('evaluates in the process that resolves identities; the other manages definitions and takes over', async () => {
    const t = await openTestStore('postgres');
    const other = await openStore({ ...t.location, dataDir: t.location.dataDir });
    const source = (await t.store.sources.create({ name: 'web', kind: 'events' })).id;
    const identityA = await IdentityService.open(t.store);
    const identityB = await IdentityService.open(other);
    const segmentsA = await SegmentService.open(t.store, identityA, { batchIntervalMs: 0 });
    const segmentsB = await SegmentService.open(other, identityB, { batchIntervalMs: 0 });
    try {
      expect([identityA.isWriter, identityB.isWriter]).toEqual([true, false]);
      expect([segmentsA.isEvaluator, segmentsB.isEvaluator]).toEqual([true, false]);
      await t.store.events.append([trackEvent({ userId: 'u1', event: 'Signed Up' }, source)]);
      await identityA.settle();
      const created = await segmentsB.create({
        name: 'signed up',
        condition: { kind: 'event', event: 'Signed Up' },
      });
      expect(await t.store.memberships.count(created.id)).toBe(0);
      await expect(segmentsB.evaluate()).rejects.toThrow(/another Sluice process evaluates segments/);
      await segmentsA.sync();
      expect(await t.store.memberships.count(created.id)).toBe(1);

      // A stops: B takes over identity resolution, then evaluation, and streams the next event.
      await segmentsA.close();
      await identityA.close();
      await identityB.catchUp();
      await segmentsB.sync();
      expect(segmentsB.isEvaluator).toBe(true);
      const e = trackEvent({ userId: 'u2', event: 'Signed Up' }, source);
      const first = await other.events.append([e]);
      segmentsB.offer(first, [e]);
      identityB.offer(first, [e]);
      await identityB.settle();
      await segmentsB.settle();
      expect(await other.memberships.count(created.id)).toBe(2);
    } finally {
      await segmentsB.close();
      await identityB.close();
      await segmentsA.close();
      await identityA.close();
      await other.close();
      await t.cleanup();
    }
  });
});
