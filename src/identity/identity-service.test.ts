import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StoredEvent } from '../core/index.js';
import { openStore, type Store } from '../store/index.js';
import { ENGINES, openTestStore, type TestStore } from '../test-support/engines.js';
import { trackEvent } from '../test-support/segments.js';
import { IdentityService } from './identity-service.js';

let clock = Date.parse('2026-01-01T00:00:00Z');
const tick = () => {
  clock += 1000;
  return new Date(clock);
};

async function record(
  store: Store,
  sourceId: string,
  recordId: string,
  identifiers: Record<string, string[]>,
) {
  await store.records.append([
    { recordId, sourceId, importId: null, rowNumber: null, identifiers, attributes: {}, receivedAt: tick() },
  ]);
}

async function event(store: Store, sourceId: string, e: Partial<StoredEvent>) {
  const at = tick();
  await store.events.append([
    trackEvent({ messageId: `m-${clock}`, timestamp: at, receivedAt: at, ...e }, sourceId),
  ]);
}

async function profileOf(store: Store, namespace: string, value: string): Promise<string | undefined> {
  return (await store.identity.findIdentifier(namespace, value))?.profileId;
}

describe.each(ENGINES)('identity service on %s', (engine) => {
  let t: TestStore;
  let crm: string;
  let web: string;
  beforeEach(async () => {
    t = await openTestStore(engine);
    crm = (await t.store.sources.create({ name: 'crm', kind: 'profiles' })).id;
    web = (await t.store.sources.create({ name: 'web', kind: 'events' })).id;
  });
  afterEach(async () => {
    await t.cleanup();
  });

  it('stitches events and records as they arrive: a visitor who signs in joins the known profile', async () => {
    const identity = await IdentityService.open(t.store);
    await record(t.store, crm, 'CRM-1', { customer_id: ['C1'], email: [' Ann@Example.com'] });
    await event(t.store, web, { anonymousId: 'anon-1', event: 'Product Viewed' });
    await identity.catchUp();
    const known = await profileOf(t.store, 'customer_id', 'C1');
    const anonymous = await profileOf(t.store, 'anonymous_id', 'anon-1');
    expect(known).toBeDefined();
    expect(anonymous).not.toBe(known);

    await event(t.store, web, {
      type: 'identify',
      userId: 'U1',
      anonymousId: 'anon-1',
      event: null,
      traits: { email: 'ann@example.com' },
    });
    const summary = await identity.catchUp();
    expect(summary).toMatchObject({ observations: 1, merges: 1 });
    expect(await profileOf(t.store, 'anonymous_id', 'anon-1')).toBe(known);
    expect(await profileOf(t.store, 'user_id', 'U1')).toBe(known);
    expect(await t.store.identity.resolveProfileId(anonymous!)).toBe(known);
  });

  it('keeps the older id when a record joins two profiles, and the other id resolves to it', async () => {
    const identity = await IdentityService.open(t.store);
    await record(t.store, crm, 'CRM-1', { customer_id: ['C1'], email: ['ann@example.com'] });
    await record(t.store, crm, 'LOY-1', { loyalty_id: ['L1'], phone: ['(415) 555-2671'] });
    await identity.catchUp();
    const older = (await profileOf(t.store, 'customer_id', 'C1'))!;
    const younger = (await profileOf(t.store, 'loyalty_id', 'L1'))!;
    expect(older).not.toBe(younger);
    await record(t.store, crm, 'CRM-1b', { customer_id: ['C1'], phone: ['+1 415 555 2671'] });
    await identity.catchUp();
    expect(await profileOf(t.store, 'loyalty_id', 'L1')).toBe(older);
    expect(await t.store.identity.resolveProfileId(younger)).toBe(older);
    expect(
      (await t.store.identity.identifiersOf(older)).map((i) => `${i.namespace}:${i.value}`).sort(),
    ).toEqual(['customer_id:C1', 'email:ann@example.com', 'loyalty_id:L1', 'phone:+14155552671']);
    const audit = await t.store.identity.auditOf([older, younger]);
    expect(audit).toEqual([
      expect.objectContaining({
        kind: 'merge',
        profileId: older,
        otherProfileId: younger,
        namespace: 'phone',
        refKind: 'record',
      }),
    ]);
  });

  it('survives a restart: the graph reloads and goes on from where it stopped', async () => {
    const first = await IdentityService.open(t.store);
    await record(t.store, crm, 'CRM-1', { customer_id: ['C1'], email: ['ann@example.com'] });
    await first.catchUp();
    const id = await profileOf(t.store, 'customer_id', 'C1');
    await first.close();
    const second = await IdentityService.open(t.store);
    await record(t.store, crm, 'CRM-2', { user_id: ['U1'], email: ['ann@example.com'] });
    expect(await second.catchUp()).toMatchObject({ observations: 1, identifiers: 3, profiles: 1 });
    expect(await profileOf(t.store, 'user_id', 'U1')).toBe(id);
  });

  it('rebuilds from stored data to the same profiles and ids, twice', async () => {
    const identity = await IdentityService.open(t.store);
    for (let i = 0; i < 20; i++) {
      await record(t.store, crm, `CRM-${i}`, { customer_id: [`C${i}`], email: [`p${i}@example.com`] });
      await event(t.store, web, { anonymousId: `a${i}`, userId: i % 3 === 0 ? `U${i}` : null });
    }
    await event(t.store, web, { type: 'identify', userId: 'U3', anonymousId: 'a4', event: null });
    await event(t.store, web, {
      type: 'identify',
      userId: 'U3',
      event: null,
      traits: { email: 'p7@example.com' },
    });
    await identity.catchUp();
    const snapshot = async () =>
      (
        await t.store.db.query<{ namespace: string; value: string; profile_id: string }>(
          'SELECT namespace, value, profile_id FROM identifiers ORDER BY namespace, value',
        )
      ).map((r) => `${r.namespace}:${r.value}=${r.profile_id}`);
    const incremental = await snapshot();
    await identity.rebuild();
    expect(await snapshot()).toEqual(incremental);
    await identity.rebuild();
    expect(await snapshot()).toEqual(incremental);
    await identity.close();
    const fresh = await IdentityService.open(t.store);
    await fresh.rebuild();
    expect(await snapshot()).toEqual(incremental);
  });

  it('splits after a stricter guardrail: only the part that splits off gets a new id', async () => {
    const identity = await IdentityService.open(t.store);
    await record(t.store, crm, 'CRM-1', { customer_id: ['C1'], email: ['a@example.com'] });
    await record(t.store, crm, 'CRM-2', {
      customer_id: ['C1'],
      email: ['b@example.com'],
      phone: ['+14155550101'],
    });
    await identity.catchUp();
    const id = (await profileOf(t.store, 'customer_id', 'C1'))!;
    expect(await profileOf(t.store, 'phone', '+14155550101')).toBe(id);

    const summary = await identity.rebuild({ limits: { customer_id: 1, email: 1 } });
    expect(summary.refusals).toBe(1);
    expect(await profileOf(t.store, 'customer_id', 'C1')).toBe(id);
    expect(await profileOf(t.store, 'email', 'a@example.com')).toBe(id);
    const splitOff = await profileOf(t.store, 'email', 'b@example.com');
    expect(splitOff).not.toBe(id);
    // The record's phone still links to its customer id (the anchor); only the second email is refused.
    expect(await profileOf(t.store, 'phone', '+14155550101')).toBe(id);
    const audit = await t.store.identity.auditOf([id]);
    expect(audit).toContainEqual(
      expect.objectContaining({
        kind: 'refusal',
        namespace: 'email',
        value: 'b@example.com',
        profileId: id,
        otherProfileId: splitOff,
      }),
    );
    expect(audit.find((a) => a.kind === 'refusal')?.reason).toMatch(/more than 1 email identifier/);
  });

  it('links nothing through blocked values', async () => {
    const identity = await IdentityService.open(t.store);
    await record(t.store, crm, 'CRM-1', {
      customer_id: ['C1'],
      email: ['test@test.com'],
      phone: ['000-000-0000'],
    });
    await record(t.store, crm, 'CRM-2', {
      customer_id: ['C2'],
      email: ['test@test.com'],
      phone: ['000-000-0000'],
    });
    expect(await identity.catchUp()).toMatchObject({ profiles: 2, refusals: 0, unusable: 4 });
    expect(await t.store.identity.findIdentifier('email', 'test@test.com')).toBeUndefined();
  });

  it('recovers from a pass that fails part way: nothing stitched is lost, and it opens again', async () => {
    const identity = await IdentityService.open(t.store);
    for (let i = 0; i < 5; i++) await record(t.store, crm, `CRM-${i}`, { customer_id: [`C${i}`] });
    await event(t.store, web, { userId: 'U1', anonymousId: 'a1' });
    // The pass stitches a first range of events and records in memory, then a read fails.
    const { highestSeqs, eventPage } = t.store.identity;
    t.store.identity.highestSeqs = async () => {
      const real = await highestSeqs.call(t.store.identity);
      return { ...real, events: real.events + 50_000 };
    };
    let pages = 0;
    t.store.identity.eventPage = (after, span) =>
      ++pages > 1
        ? Promise.reject(new Error('disk went away'))
        : eventPage.call(t.store.identity, after, span);
    await expect(identity.catchUp()).rejects.toThrow('disk went away');
    t.store.identity.highestSeqs = highestSeqs;
    t.store.identity.eventPage = eventPage;
    expect(await identity.catchUp()).toMatchObject({ observations: 6, identifiers: 7, profiles: 6 });
    expect((await t.store.identity.stats()).identifiers).toMatchObject({ customer_id: 5, user_id: 1 });
    const again = await IdentityService.open(t.store);
    expect(await again.catchUp()).toMatchObject({ observations: 0, identifiers: 7 });
  });

  it('still foresees, after a pass that failed, what it foresaw for the events that pass did not stitch', async () => {
    const identity = await IdentityService.open(t.store);
    await event(t.store, web, { userId: 'u1', event: 'Signed Up' });
    await identity.catchUp();
    // u1 on a new device: the device joins u1's profile, so the device's next events wait for the pass.
    const known = trackEvent({ userId: 'u1', anonymousId: 'n2', timestamp: tick() }, web);
    const first = await t.store.events.append([known]);
    const u1 = await profileOf(t.store, 'user_id', 'u1');
    expect(identity.settledProfileOfEvent('u1', 'n2', first, known)).toBe(u1);
    const device = trackEvent({ anonymousId: 'n2', timestamp: tick() }, web);
    expect(identity.provisionalProfileOfEvent(first + 1, device)).toBeUndefined();

    const { eventPage } = t.store.identity;
    t.store.identity.eventPage = () => Promise.reject(new Error('disk went away'));
    await expect(identity.catchUp()).rejects.toThrow('disk went away');
    t.store.identity.eventPage = eventPage;
    expect(identity.provisionalProfileOfEvent(first + 1, device)).toBeUndefined();
    await identity.catchUp();
    expect(identity.settledProfileOfEvent(null, 'n2')).toBe(u1);
  });

  it('reads offered events as the store keeps them, so a restart sees the same identifiers', async () => {
    const identity = await IdentityService.open(t.store);
    const stored = {
      messageId: 'nul',
      sourceId: web,
      type: 'identify' as const,
      userId: 'u\u0000x',
      anonymousId: 'a-1',
      event: null,
      groupId: null,
      previousId: null,
      timestamp: tick(),
      originalTimestamp: null,
      sentAt: null,
      receivedAt: new Date(clock),
      properties: {},
      traits: { email: 'Ann@Example.com' },
      context: { device: { id: 42 } },
    };
    const firstSeq = await t.store.events.append([stored]);
    identity.offer(firstSeq, [stored]);
    await identity.settle();
    const fromMemory = (
      await t.store.identity.identifiersOf((await profileOf(t.store, 'anonymous_id', 'a-1'))!)
    ).map((i) => `${i.namespace}:${i.value}`);
    expect(fromMemory.sort()).toEqual([
      'anonymous_id:a-1',
      'device_id:42',
      'email:ann@example.com',
      'user_id:u\ufffdx',
    ]);
    await identity.rebuild();
    const rebuilt = (
      await t.store.identity.identifiersOf((await profileOf(t.store, 'anonymous_id', 'a-1'))!)
    ).map((i) => `${i.namespace}:${i.value}`);
    expect(rebuilt.sort()).toEqual(fromMemory);
    const reopened = await IdentityService.open(t.store);
    expect(await reopened.catchUp()).toMatchObject({ identifiers: 4 });
  });

  it('foresees the profile a pass founds for new visitors, and not for identifiers that join a known one', async () => {
    const identity = await IdentityService.open(t.store);
    await event(t.store, web, { userId: 'u1', event: 'Signed Up' });
    await identity.catchUp();
    const stored = [
      // A new visitor, who then signs up.
      { anonymousId: 'n1' },
      {
        type: 'identify' as const,
        userId: 'new-user',
        anonymousId: 'n1',
        traits: { email: 'New@Example.com' },
      },
      // A known user on a new device, then the device alone: it joins u1's profile.
      { userId: 'u1', anonymousId: 'n2' },
      { anonymousId: 'n2' },
    ].map((e) => trackEvent({ timestamp: tick(), receivedAt: new Date(clock), ...e }, web));
    const first = await t.store.events.append(stored);
    // As streaming segments ask: the settled profile first.
    const foreseen = stored.map(
      (e, i) =>
        identity.settledProfileOfEvent(e.userId, e.anonymousId, first + i) ??
        identity.provisionalProfileOfEvent(first + i, e)?.id,
    );
    const u1 = await profileOf(t.store, 'user_id', 'u1');
    expect(foreseen[0]).toMatch(/^p_/);
    expect(foreseen.slice(1)).toEqual([foreseen[0], u1, undefined]);
    // Asked alone, an event that names a known identifier founds nothing.
    expect(identity.provisionalProfileOfEvent(first + 2, stored[2]!)).toBeUndefined();

    identity.offer(first, stored);
    await identity.settle();
    expect(await profileOf(t.store, 'anonymous_id', 'n1')).toBe(foreseen[0]);
    expect(await profileOf(t.store, 'user_id', 'new-user')).toBe(foreseen[0]);
    expect(await profileOf(t.store, 'anonymous_id', 'n2')).toBe(u1);
    // Once stitched, the identifiers are known: an event of theirs is settled, not foreseen.
    const later = trackEvent({ anonymousId: 'n1', timestamp: tick() }, web);
    expect(identity.provisionalProfileOfEvent(first + stored.length, later)).toBeUndefined();
    expect(identity.settledProfileOfEvent(null, 'n1')).toBe(foreseen[0]);
  });

  it('says whether a pass founded each profile it foresaw, when other events linked their identifiers elsewhere', async () => {
    const identity = await IdentityService.open(t.store);
    await event(t.store, web, { userId: 'u1', event: 'Signed Up' });
    await identity.catchUp();
    const stored = [
      // A shared device: the second user's event is foreseen on the first's profile, through the
      // device, but a profile holds one user id.
      { userId: 'x1', anonymousId: 'shared' },
      { userId: 'x2', anonymousId: 'shared' },
      // A new visitor, then (in an event nobody asks about) a known user on that device.
      { anonymousId: 'visitor' },
      { userId: 'u1', anonymousId: 'visitor' },
    ].map((e) => trackEvent({ timestamp: tick(), receivedAt: new Date(clock), ...e }, web));
    const first = await t.store.events.append(stored);
    const foreseen = stored.slice(0, 3).map((e, i) => identity.provisionalProfileOfEvent(first + i, e));
    expect(foreseen[1]).toEqual(foreseen[0]);
    expect(foreseen[2]?.id).toMatch(/^p_/);

    identity.offer(first, stored);
    await identity.settle();
    const x1 = await profileOf(t.store, 'user_id', 'x1');
    expect(x1).toBe(foreseen[0]!.id);
    expect(identity.isFounded(foreseen[0]!)).toBe(true);
    expect(identity.profileOfEvent('x2', 'shared')).not.toBe(x1);
    expect(await profileOf(t.store, 'anonymous_id', 'visitor')).toBe(
      await profileOf(t.store, 'user_id', 'u1'),
    );
    expect(identity.isFounded(foreseen[2]!)).toBe(false);
  });

  it('tells which profiles may have new values: identify calls and records, and every event once traits exist', async () => {
    const identity = await IdentityService.open(t.store);
    const announced: { profiles?: readonly string[]; values?: readonly string[] }[] = [];
    identity.subscribe((c) => {
      announced.push({
        ...(c.profiles ? { profiles: [...c.profiles].sort() } : {}),
        ...(c.valuesChanged ? { values: [...c.valuesChanged].sort() } : {}),
      });
    });
    await record(t.store, crm, 'CRM-1', { customer_id: ['C1'], user_id: ['u1'] });
    await event(t.store, web, { userId: 'u2', event: 'Product Viewed' });
    await identity.catchUp();
    const u1 = (await profileOf(t.store, 'user_id', 'u1'))!;
    const u2 = (await profileOf(t.store, 'user_id', 'u2'))!;
    expect(announced.pop()).toEqual({ profiles: [u1, u2].sort(), values: [u1] });

    await event(t.store, web, { userId: 'u1', event: 'Product Viewed' });
    await event(t.store, web, { type: 'identify', userId: 'u2', event: null, traits: { plan: 'pro' } });
    await identity.catchUp();
    expect(announced.pop()).toEqual({ profiles: [u1, u2].sort(), values: [u2] });

    // A new trait is computed for everyone: any profile's values may have changed.
    await t.store.traits.create({ name: 'views', event: 'Product Viewed', aggregate: 'count' });
    await event(t.store, web, { userId: 'u1', event: 'Product Viewed' });
    await identity.catchUp();
    expect(announced.pop()).toEqual({});
    // From then on, the events' profiles are those whose trait values may have changed.
    await event(t.store, web, { userId: 'u2', event: 'Product Viewed' });
    await identity.catchUp();
    expect(announced.pop()).toEqual({ profiles: [u2], values: [u2] });
    await identity.close();
  });

  it('stitches writes that asked for a pass while a rebuild ran', async () => {
    const identity = await IdentityService.open(t.store);
    await record(t.store, crm, 'CRM-1', { customer_id: ['C1'] });
    const rebuilding = identity.rebuild();
    await record(t.store, crm, 'CRM-2', { customer_id: ['C2'] });
    identity.notify();
    await rebuilding;
    for (let i = 0; i < 100 && !(await profileOf(t.store, 'customer_id', 'C2')); i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(await profileOf(t.store, 'customer_id', 'C2')).toBeDefined();
  });

  it('goes on finding shared identifiers after a restart, as a rebuild does', async () => {
    const first = await IdentityService.open(t.store);
    await record(t.store, crm, 'CRM-1', { customer_id: ['C1'], email: ['family@example.com'] });
    await first.catchUp();
    await first.close();
    const second = await IdentityService.open(t.store);
    await record(t.store, crm, 'CRM-2', { customer_id: ['C2'], email: ['family@example.com'] });
    expect(await second.catchUp()).toMatchObject({ refusals: 1, flagged: 1 });
    expect((await t.store.identity.findIdentifier('email', 'family@example.com'))?.shared).toBe(true);
    expect(await second.rebuild()).toMatchObject({ refusals: 1, flagged: 1 });
  });
});

// DuckDB files have one process; on PostgreSQL several Sluice processes share the store.
describe('identity resolution with several processes on one PostgreSQL store', () => {
  let t: TestStore;
  let other: TestStore;
  beforeEach(async () => {
    t = await openTestStore('postgres');
    other = { ...t, store: await openStore(t.location), cleanup: async () => {} };
  });
  afterEach(async () => {
    await other.store.close();
    await t.cleanup();
  });

  it('lets one process stitch; another takes over when it stops', async () => {
    const crm = (await t.store.sources.create({ name: 'crm', kind: 'profiles' })).id;
    const first = await IdentityService.open(t.store);
    const second = await IdentityService.open(other.store);
    expect([first.isWriter, second.isWriter]).toEqual([true, false]);
    await record(t.store, crm, 'CRM-1', { customer_id: ['C1'] });
    expect(await second.catchUp()).toMatchObject({ observations: 0 });
    await expect(second.rebuild()).rejects.toMatchObject({ code: 'identity_busy' });
    expect(await first.catchUp()).toMatchObject({ observations: 1 });

    await first.close();
    await record(other.store, crm, 'CRM-2', { customer_id: ['C2'], email: ['c2@example.com'] });
    // The second process becomes the writer and goes on from the first one's cursors.
    expect(await second.catchUp()).toMatchObject({ observations: 1, identifiers: 3, profiles: 2 });
    expect(second.isWriter).toBe(true);
    await second.close();
  });
});
