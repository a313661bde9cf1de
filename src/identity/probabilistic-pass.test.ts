import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProfileRecord } from '../store/index.js';
import { ENGINES, openTestStore, type TestStore } from '../test-support/engines.js';
import { IdentityService } from './identity-service.js';
import { matchReviews } from './match-reviews.js';
import { PERSON_RULE_SET } from './probabilistic/index.js';

// ../shared/data from the repository root; never copied into the repository.
const DATASET1 = new URL('../../../shared/data/febrl/dataset1.csv', import.meta.url);

describe.each(ENGINES)('probabilistic matching in the identity graph on %s', (engine) => {
  let t: TestStore;
  let identity: IdentityService;
  /** FEBRL originals arrive from the CRM (with a customer id), their corrupted duplicates from a
   * point-of-sale system that has only its own id: no key joins them. */
  const personOf = new Map<string, string>();

  beforeAll(async () => {
    t = await openTestStore(engine);
    const crm = await t.store.sources.create({ name: 'crm', kind: 'profiles' });
    const pos = await t.store.sources.create({ name: 'pos', kind: 'profiles' });
    const rows = parse(readFileSync(DATASET1, 'utf8'), { columns: true, trim: true }) as Record<
      string,
      string
    >[];
    const receivedAt = new Date('2026-01-01T00:00:00Z');
    const records: ProfileRecord[] = rows.map(({ rec_id: id, ...attributes }) => {
      const original = id!.endsWith('-org');
      personOf.set(id!, id!.split('-')[1]!);
      return {
        recordId: id!,
        sourceId: original ? crm.id : pos.id,
        importId: null,
        rowNumber: null,
        identifiers: original ? { customer_id: [id!] } : { pos_id: [id!] },
        attributes,
        receivedAt,
      };
    });
    // A second CRM account that looks exactly like the first person: the guardrail must refuse it.
    const twin = rows.find((r) => r.rec_id!.endsWith('-org'))!;
    const { rec_id: twinOf, ...twinAttributes } = twin;
    records.push({
      recordId: 'twin',
      sourceId: crm.id,
      importId: null,
      rowNumber: null,
      identifiers: { customer_id: ['twin'] },
      attributes: twinAttributes,
      receivedAt,
    });
    personOf.set('twin', `twin-of-${twinOf}`);
    await t.store.records.append(records);
    identity = await IdentityService.open(t.store);
    // A wide review band, so that some unlikely pairs wait for review.
    await identity.rebuild({ probabilistic: { rules: { ...PERSON_RULE_SET, reviewBand: 30 } } });
  }, 120_000);
  afterAll(async () => {
    await t.cleanup();
  });

  const profileOfRecord = async () =>
    new Map(
      (
        await t.store.db.query<{ record_id: string; profile_id: string }>(
          `SELECT r.record_id, i.profile_id FROM profile_records r
           JOIN record_anchors a ON a.record_seq = r.seq JOIN identifiers i ON i.id = a.identifier_id`,
        )
      ).map((r) => [r.record_id, r.profile_id]),
    );

  it('merges the records of one person that share no key, and only those', async () => {
    expect(await t.store.identity.countProfiles()).toBe(1001);
    const summary = await identity.match();
    expect(summary).toMatchObject({ records: 1001 });
    expect(summary.merged).toBeGreaterThan(450);
    expect(summary.refused).toBeGreaterThanOrEqual(1);

    const profileOf = await profileOfRecord();
    let truePairs = 0;
    let found = 0;
    const people = new Map<string, Set<string>>();
    for (const [record, profile] of profileOf) {
      const person = personOf.get(record)!;
      people.set(profile, (people.get(profile) ?? new Set()).add(person));
    }
    for (const [record, person] of personOf) {
      if (!record.includes('-dup-')) continue;
      truePairs++;
      if (profileOf.get(record) === profileOf.get(`rec-${person}-org`)) found++;
    }
    const mixed = [...people.values()].filter((p) => p.size > 1).length;
    expect(found / truePairs).toBeGreaterThanOrEqual(0.95);
    expect(mixed).toBeLessThanOrEqual(5);
    // The twin's match with the original breaks the one-customer-id limit: refused and audited.
    expect(profileOf.get('twin')).not.toBe(profileOf.get(personOf.get('twin')!.replace('twin-of-', '')));
    const refusals = await t.store.db.query<{ ref_kind: string; reason: string }>(
      "SELECT ref_kind, reason FROM identity_audit WHERE kind = 'refusal'",
    );
    expect(refusals).toContainEqual({ ref_kind: 'match', reason: expect.stringMatching(/customer_id/) });
  });

  it('lists pairs just below the threshold for review, with the weight of each field', async () => {
    const reviews = await matchReviews(t.store, 10);
    for (const r of reviews) {
      expect(r.weight).toBeLessThan(0);
      expect(r.weight).toBeGreaterThanOrEqual(-30);
      expect(r.fields.map((f) => f.field)).toContain('surname');
      expect(r.left.profileId).toMatch(/^p_/);
    }
    const stored = await t.store.matches.matches(['review']);
    expect(stored.length).toBeGreaterThan(0);
    expect(reviews.length).toBe(Math.min(10, stored.length));
    expect(reviews.map((r) => r.weight)).toEqual([...reviews.map((r) => r.weight)].sort((a, b) => b - a));
  });

  it('replays the stored matches on a rebuild: the same profiles and ids', async () => {
    const before = await profileOfRecord();
    await identity.rebuild();
    expect(await profileOfRecord()).toEqual(before);
  });

  it('replays the matches onto the rebuilt graph after settings that change identifier ids', async () => {
    // Blocking the first record's key renumbers every identifier after it.
    const first = (await t.store.records.list((await t.store.sources.find('crm')).id, 1))[0]!;
    const key = first.identifiers.customer_id![0]!;
    await identity.rebuild({
      blocked: { customer_id: [`^${key}$`] },
      probabilistic: { rules: { ...PERSON_RULE_SET, reviewBand: 30 } },
    });
    const profileOf = await profileOfRecord();
    const people = new Map<string, Set<string>>();
    for (const [record, profile] of profileOf) {
      people.set(profile, (people.get(profile) ?? new Set()).add(personOf.get(record)!));
    }
    expect([...people.values()].filter((p) => p.size > 1).length).toBeLessThanOrEqual(5);
    let joined = 0;
    for (const [record, person] of personOf) {
      if (record.includes('-dup-') && profileOf.get(record) === profileOf.get(`rec-${person}-org`)) joined++;
    }
    expect(joined).toBeGreaterThan(450);
  });
});
