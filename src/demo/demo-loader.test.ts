import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startApp } from '../app.js';
import { loadConfig } from '../config.js';
import { ENGINES, openTestStore, type TestStore } from '../test-support/engines.js';
import { loadDemoWorkspace } from './demo-loader.js';

describe.each(ENGINES)('demo workspace on %s', (engine) => {
  let t: TestStore;
  beforeEach(async () => {
    t = await openTestStore(engine);
  });
  afterEach(async () => {
    await t.cleanup();
  });

  it('creates the sources, stores everything it generated, and records the truth for each record', async () => {
    const summary = await loadDemoWorkspace(t.store, { seed: 11, customers: 300 });
    const sources = await t.store.sources.list();
    expect(sources.map((s) => [s.name, s.kind]).sort()).toEqual([
      ['crm', 'profiles'],
      ['ecommerce', 'profiles'],
      ['loyalty', 'profiles'],
      ['web', 'events'],
    ]);
    const [counts] = await t.store.db.query<{
      records: number;
      events: number;
      truth: number;
      customers: number;
    }>(
      `SELECT (SELECT count(*) FROM profile_records) AS records, (SELECT count(*) FROM events) AS events,
              (SELECT count(*) FROM demo_truth WHERE kind = 'record') AS truth,
              (SELECT count(DISTINCT customer_id) FROM demo_truth WHERE kind = 'record') AS customers`,
    );
    expect(counts).toEqual({
      records: summary.records,
      events: summary.events,
      truth: summary.records,
      customers: 300,
    });
    const [orphans] = await t.store.db.query<{ n: number }>(
      `SELECT count(*) AS n FROM profile_records r
       WHERE NOT EXISTS (SELECT 1 FROM demo_truth t WHERE t.kind = 'record' AND t.source_id = r.source_id AND t.record_key = r.record_id)`,
    );
    expect(orphans?.n).toBe(0);
  });

  it('refuses to load twice into the same store', async () => {
    await loadDemoWorkspace(t.store, { customers: 20 });
    await expect(loadDemoWorkspace(t.store, { customers: 20 })).rejects.toMatchObject({
      code: 'demo_exists',
    });
  });
});

describe('serve on an empty store', () => {
  it('loads the demo workspace before answering, and not again on the next start', async () => {
    const t = await openTestStore('duckdb');
    await t.store.close();
    const config = loadConfig(
      {},
      { port: 0, dataDir: t.location.dataDir, adminKey: 'sk_demo_test_key_0123456789' },
    );
    const silent = { info: () => {}, error: () => {} };
    const app = await startApp(config, silent, { demo: { customers: 50 } });
    const sources = await app.store.sources.list();
    expect(sources.map((s) => s.name).sort()).toEqual(['crm', 'ecommerce', 'loyalty', 'web']);
    await app.close();
    const again = await startApp(config, silent, { demo: { customers: 50 } });
    expect((await again.store.sources.list()).length).toBe(4);
    await again.close();
    await t.cleanup();
  });
});
