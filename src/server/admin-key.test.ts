import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startApp } from '../app.js';
import { loadConfig } from '../config.js';
import { ENGINES, openTestStore, type TestStore } from '../test-support/engines.js';

const silent = { info: () => {}, error: () => {} };
const KEY = 'sk_configured_admin_key_0123456789';

describe.each(ENGINES)('the configured admin key on %s', (engine) => {
  let t: TestStore;
  beforeEach(async () => {
    t = await openTestStore(engine);
    await t.store.close();
  });
  afterEach(async () => {
    await t.cleanup();
  });

  const start = () =>
    startApp(
      loadConfig(
        {},
        {
          port: 0,
          dataDir: t.location.dataDir,
          databaseUrl: t.location.databaseUrl,
          adminKey: KEY,
          demo: false,
        },
      ),
      silent,
      t.location.schema ? { schema: t.location.schema } : {},
    );

  it('is accepted, and refused at the next start once revoked', async () => {
    const first = await start();
    const headers = { Authorization: `Bearer ${KEY}` };
    expect((await fetch(`${first.url}/api/keys`, { headers })).status).toBe(200);
    const [key] = await first.store.apiKeys.list();
    expect(await first.store.apiKeys.revoke(key!.id)).toBe(true);
    await first.close();
    await expect(start()).rejects.toMatchObject({ code: 'admin_key_revoked' });
  });
});
