import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../core/index.js';
import { IdentityService } from '../../identity/index.js';
import { importFile } from '../../ingest/index.js';
import type { Store } from '../../store/index.js';
import { ENGINES, openTestStore, type TestStore } from '../../test-support/engines.js';
import { trackEvent } from '../../test-support/segments.js';
import { ConsentSuppression } from './consent-suppression.js';

const at = (day: number, hour = 0) => new Date(Date.UTC(2026, 2, day, hour));

async function record(
  store: Store,
  sourceId: string,
  recordId: string,
  identifiers: Record<string, string[]>,
  attributes: Record<string, unknown>,
  receivedAt: Date,
) {
  await store.records.append([
    { recordId, sourceId, importId: null, rowNumber: null, identifiers, attributes, receivedAt },
  ]);
}

const identify = (sourceId: string, e: Partial<StoredEvent>) =>
  trackEvent({ type: 'identify', event: null, receivedAt: at(20), ...e }, sourceId);

describe.each(ENGINES)('consent on %s', (engine) => {
  let t: TestStore;
  let identity: IdentityService;
  let consent: ConsentSuppression;
  let crm: string;
  let web: string;
  const profileOf = async (namespace: string, value: string) =>
    (await t.store.identity.findIdentifier(namespace, value))!.profileId;

  beforeEach(async () => {
    t = await openTestStore(engine);
    identity = await IdentityService.open(t.store);
    consent = new ConsentSuppression(t.store);
    crm = (await t.store.sources.create({ name: 'crm', kind: 'profiles' })).id;
    web = (await t.store.sources.create({ name: 'web', kind: 'events' })).id;
  });
  afterEach(async () => {
    await identity.close();
    await t.cleanup();
  });

  it('takes consent from records and events: the latest statement wins, a withdrawal over an older grant', async () => {
    await record(
      t.store,
      crm,
      'CRM-1',
      { customer_id: ['C1'], email: ['ann@example.com'] },
      { consent_email: 'yes', consent_sms: 'opt-in', consent_advertising: true },
      at(1),
    );
    await record(
      t.store,
      crm,
      'CRM-2',
      { customer_id: ['C2'], email: ['bob@example.com'] },
      { consent_email: 'no' },
      at(1),
    );
    await t.store.events.append([
      // Ann withdraws email on the web on the 5th; her SMS grant on the 3rd is older than the CRM's.
      identify(web, {
        userId: 'U1',
        traits: { email: 'ann@example.com' },
        timestamp: at(5),
        context: { consent: { email: false } },
      }),
      identify(web, { userId: 'U1', timestamp: at(3), context: { consent: { sms: false } } }),
      // Bob grants email on the web after the CRM said no.
      identify(web, {
        userId: 'U2',
        traits: { email: 'bob@example.com' },
        timestamp: at(4),
        context: { consent: { email: true } },
      }),
    ]);
    await identity.catchUp();
    const ann = await profileOf('customer_id', 'C1');
    const bob = await profileOf('customer_id', 'C2');
    expect(await profileOf('user_id', 'U1')).toBe(ann);

    expect(await consent.ofProfile(ann)).toEqual({
      advertising: { granted: true, at: at(1), source: 'crm', via: 'record' },
      email: { granted: false, at: at(5), source: 'web', via: 'event' },
      // The web's refusal on the 3rd is newer than the CRM record received on the 1st.
      sms: { granted: false, at: at(3), source: 'web', via: 'event' },
    });
    expect(Object.fromEntries(await consent.suppressed([ann, bob], 'email'))).toEqual({
      [ann]: 'withdrawn:email',
    });
    expect(Object.fromEntries(await consent.suppressed([ann, bob], 'push'))).toEqual({
      [ann]: 'no_consent:push',
      [bob]: 'no_consent:push',
    });
    // No purpose: nobody is held back.
    expect((await consent.suppressed([ann, bob], undefined)).size).toBe(0);
  });

  it('does not let a record imported again with the same value undo a newer withdrawal; a dated one counts', async () => {
    const ids = { customer_id: ['C1'], email: ['ann@example.com'] };
    await record(t.store, crm, 'CRM-1', ids, { consent_email: true }, at(1));
    await t.store.events.append([
      identify(web, {
        userId: 'U1',
        traits: { email: 'ann@example.com' },
        timestamp: at(5),
        context: { consent: { email: false } },
      }),
    ]);
    // The nightly file, received later, still says yes: it says nothing new.
    await record(t.store, crm, 'CRM-1b', ids, { consent_email: 'true' }, at(9));
    await identity.catchUp();
    const ann = await profileOf('customer_id', 'C1');
    expect(Object.fromEntries(await consent.suppressed([ann], 'email'))).toEqual({
      [ann]: 'withdrawn:email',
    });

    // The CRM dates a new opt-in after the withdrawal: that is a statement of its own.
    await record(
      t.store,
      crm,
      'CRM-1c',
      ids,
      { consent_email: 'opt-in', consent_email_at: at(7).toISOString() },
      at(10),
    );
    // And a late-arriving event stamped before the withdrawal changes nothing.
    await t.store.events.append([
      identify(web, { userId: 'U1', timestamp: at(6), context: { consent: { email: false } } }),
    ]);
    await identity.catchUp();
    expect((await consent.suppressed([ann], 'email')).size).toBe(0);
    expect((await consent.ofProfile(ann)).email).toEqual({
      granted: true,
      at: at(7),
      source: 'crm',
      via: 'record',
    });

    // A refusal and a grant at the same time: the refusal wins.
    await t.store.events.append([
      identify(web, { userId: 'U1', timestamp: at(7), context: { consent: { email: false } } }),
    ]);
    await identity.catchUp();
    expect(Object.fromEntries(await consent.suppressed([ann], 'email'))).toEqual({
      [ann]: 'withdrawn:email',
    });
  });

  it('dates a record’s consent by its receipt when consent_<purpose>_at is outside the years 0001-9999', async () => {
    // Each a time to JavaScript. PostgreSQL refuses a year past 9999 (and failed the whole write);
    // year 0 is outside what events may carry too.
    const cases = [
      { granted: true, statedAt: '+010000-01-01T00:00:00Z', received: at(1), expected: at(1) },
      { granted: false, statedAt: '0000-06-01T00:00:00Z', received: at(2), expected: at(2) },
      { granted: true, statedAt: at(3, 5).toISOString(), received: at(4), expected: at(3, 5) },
    ];
    for (const [i, c] of cases.entries()) {
      const attributes = { consent_email: c.granted, consent_email_at: c.statedAt };
      await record(t.store, crm, `CRM-${i}`, { customer_id: [`C${i}`] }, attributes, c.received);
    }
    await identity.catchUp();
    for (const [i, c] of cases.entries()) {
      const profile = await profileOf('customer_id', `C${i}`);
      expect((await consent.ofProfile(profile)).email, c.statedAt).toEqual({
        granted: c.granted,
        at: c.expected,
        source: 'crm',
        via: 'record',
      });
    }
  });

  it('follows merges: two profiles’ statements decide together once an identifier joins them', async () => {
    await record(
      t.store,
      crm,
      'CRM-1',
      { customer_id: ['C1'], email: ['ann@example.com'] },
      { consent_email: 'yes' },
      at(1),
    );
    // An anonymous visitor withdraws, not yet known as Ann.
    await t.store.events.append([
      trackEvent(
        { anonymousId: 'anon-1', timestamp: at(4), context: { consent: { email: 'opt-out' } } },
        web,
      ),
    ]);
    await identity.catchUp();
    const ann = await profileOf('customer_id', 'C1');
    const visitor = await profileOf('anonymous_id', 'anon-1');
    expect(visitor).not.toBe(ann);
    expect((await consent.suppressed([ann], 'email')).size).toBe(0);
    expect(Object.fromEntries(await consent.suppressed([visitor], 'email'))).toEqual({
      [visitor]: 'withdrawn:email',
    });

    // The visitor signs in as Ann: the profiles merge, and her latest statement is the withdrawal.
    await t.store.events.append([
      identify(web, {
        userId: 'U1',
        anonymousId: 'anon-1',
        traits: { email: 'ann@example.com' },
        timestamp: at(6),
      }),
    ]);
    await identity.catchUp();
    expect(await t.store.identity.resolveProfileId(visitor)).toBe(ann);
    expect(Object.fromEntries(await consent.suppressed([ann], 'email'))).toEqual({
      [ann]: 'withdrawn:email',
    });
    expect((await consent.ofProfile(ann)).email).toMatchObject({ granted: false, at: at(4), source: 'web' });
  });

  it('takes consent_<purpose> columns of an imported file, in the words files use', async () => {
    const path = join(t.location.dataDir, 'crm.csv');
    await writeFile(
      path,
      [
        'Customer ID,Email,Consent Email,Consent SMS,Consent SMS At',
        'C1,ann@example.com,Opt-In,N,2026-02-01T00:00:00Z',
        'C2,bob@example.com,unsubscribed,,',
        'C3,cid@example.com,unknown,yes,',
      ].join('\n'),
    );
    const source = await t.store.sources.get(crm);
    expect(await importFile(t.store, { source, path })).toMatchObject({ rowsStored: 3, rowsRejected: 0 });
    await identity.catchUp();
    const [ann, bob, cid] = await Promise.all(['C1', 'C2', 'C3'].map((c) => profileOf('customer_id', c)));
    expect(Object.fromEntries(await consent.suppressed([ann!, bob!, cid!], 'email'))).toEqual({
      [bob!]: 'withdrawn:email',
      [cid!]: 'no_consent:email',
    });
    expect((await consent.ofProfile(ann!)).sms).toEqual({
      granted: false,
      at: new Date('2026-02-01T00:00:00Z'),
      source: 'crm',
      via: 'record',
    });
    expect((await consent.ofProfile(cid!)).sms).toMatchObject({ granted: true, via: 'record' });
  });

  it('answers for thousands of profiles at once, and for a whole segment', async () => {
    const n = 12_000;
    await t.store.records.append(
      Array.from({ length: n }, (_, i) => ({
        recordId: `R${i}`,
        sourceId: crm,
        importId: null,
        rowNumber: null,
        identifiers: { customer_id: [`C${i}`] },
        // A third grant, a third refuse, a third say nothing.
        attributes: i % 3 === 2 ? {} : { consent_email: i % 3 === 0 ? 'yes' : 'no' },
        receivedAt: at(1),
      })),
    );
    await identity.catchUp();
    const profiles = (await t.store.identity.listProfiles(n)).map((p) => p.id);
    expect(profiles).toHaveLength(n);
    const held = await consent.suppressed(profiles, 'email');
    const reasons = [...held.values()];
    expect(reasons.filter((r) => r === 'withdrawn:email')).toHaveLength(n / 3);
    expect(reasons.filter((r) => r === 'no_consent:email')).toHaveLength(n / 3);

    await t.store.db.bulkInsert(
      'segment_members',
      ['segment_id', 'profile_id', 'since'],
      profiles.slice(0, 300).map((p) => ['seg_test', p, at(2)]),
    );
    const members = await consent.suppressedMembers('seg_test', 'email');
    expect(Object.fromEntries(members)).toEqual(
      Object.fromEntries(profiles.slice(0, 300).flatMap((p) => (held.has(p) ? [[p, held.get(p)]] : []))),
    );
  });
});
