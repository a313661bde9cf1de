import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDemoWorkspace } from '../demo/index.js';
import { readJson } from '../store/dialect.js';
import { ENGINES, openTestStore, type TestStore } from '../test-support/engines.js';
import { IdentityService } from './identity-service.js';

/** Every stitched record and anonymous id with its profile and the true person behind it. */
const TRUTH = `
  SELECT i.profile_id, t.customer_id, COALESCE(t.note, '') AS note
  FROM record_anchors a JOIN identifiers i ON i.id = a.identifier_id
  JOIN profile_records r ON r.seq = a.record_seq
  JOIN demo_truth t ON t.kind = 'record' AND t.source_id = r.source_id AND t.record_key = r.record_id
  UNION ALL
  SELECT i.profile_id, t.customer_id, '' AS note
  FROM identifiers i JOIN demo_truth t ON t.kind = 'anonymous_id' AND t.record_key = i.value
  WHERE i.namespace = 'anonymous_id'`;

describe.each(ENGINES)('identity resolution of the demo workspace on %s', (engine) => {
  let t: TestStore;
  let identity: IdentityService;
  const count = async (sql: string) => (await t.store.db.query<{ n: number }>(sql))[0]!.n;

  beforeAll(async () => {
    t = await openTestStore(engine);
    await loadDemoWorkspace(t.store, { customers: 3000, now: new Date('2026-11-01T00:00:00Z') });
    identity = await IdentityService.open(t.store);
    await identity.catchUp();
  }, 120_000);
  afterAll(async () => {
    await t.cleanup();
  });

  it('makes exactly one profile per true person, each holding no one else', async () => {
    const persons = await count('SELECT count(DISTINCT customer_id) AS n FROM demo_truth');
    expect(persons).toBeGreaterThan(3000);
    expect(await count('SELECT count(DISTINCT profile_id) AS n FROM identifiers')).toBe(persons);
    expect(await count(`WITH truth AS (${TRUTH}) SELECT count(DISTINCT customer_id) AS n FROM truth`)).toBe(
      persons,
    );
    const mixed = await count(
      `WITH truth AS (${TRUTH}) SELECT count(*) AS n FROM (SELECT profile_id FROM truth GROUP BY profile_id HAVING count(DISTINCT customer_id) > 1) x`,
    );
    const split = await count(
      `WITH truth AS (${TRUTH}) SELECT count(*) AS n FROM (SELECT customer_id FROM truth GROUP BY customer_id HAVING count(DISTINCT profile_id) > 1) x`,
    );
    expect({ mixed, split }).toEqual({ mixed: 0, split: 0 });
  });

  it('refuses the merge a shared family email would cause, and flags the email as shared', async () => {
    const records = await t.store.db.query<{ identifiers: unknown }>(
      `SELECT r.identifiers FROM profile_records r
       JOIN demo_truth d ON d.kind = 'record' AND d.source_id = r.source_id AND d.record_key = r.record_id
       WHERE d.note = 'shared_email'`,
    );
    const sharedEmails = new Set<string>();
    for (const r of records) {
      for (const raw of (readJson(r.identifiers).email as string[] | undefined) ?? []) {
        const email = identity.normalizer.normalize('email', raw);
        if (email.ok) sharedEmails.add(email.value);
      }
    }
    expect(sharedEmails.size).toBeGreaterThan(10);
    const audit = await t.store.db.query<{ kind: string; value: string }>(
      "SELECT DISTINCT kind, value FROM identity_audit WHERE namespace = 'email'",
    );
    const refused = new Set(audit.filter((a) => a.kind === 'refusal').map((a) => a.value));
    const flagged = new Set(audit.filter((a) => a.kind === 'flagged').map((a) => a.value));
    expect([...sharedEmails].filter((e) => !refused.has(e) || !flagged.has(e))).toEqual([]);
    // Nothing else was flagged: the customers' own emails and phones all still link.
    expect([...flagged].filter((e) => !sharedEmails.has(e))).toEqual([]);
  });

  it('rebuilds the demo to the very same profiles and ids, twice', async () => {
    const snapshot = async () =>
      (
        await t.store.db.query<{ id: number; profile_id: string }>(
          'SELECT id, profile_id FROM identifiers ORDER BY id',
        )
      ).map((r) => `${r.id}=${r.profile_id}`);
    const incremental = await snapshot();
    await identity.rebuild();
    expect(await snapshot()).toEqual(incremental);
    await identity.rebuild();
    expect(await snapshot()).toEqual(incremental);
  });
});
