import { type AppOptions, type RunningApp, startApp } from '../app.js';
import { loadConfig } from '../config.js';
import type { Source, SourceKind } from '../core/index.js';
import { type Engine, openTestStore } from './engines.js';

export const TEST_ADMIN_KEY = 'sk_test_admin_key_0123456789';
/** Encrypts test destinations' credentials (PostgreSQL stores need one; DuckDB would make a key file). */
export const TEST_SECRET_KEY = 'test_secret_key_for_destination_credentials';

export interface TestServer {
  app: RunningApp;
  url: string;
  /** Headers with the admin key. */
  admin: Record<string, string>;
  /** Creates a source through the management API. */
  createSource(name: string, kind?: SourceKind): Promise<Source>;
  close(): Promise<void>;
}

const silent = { info: () => {}, error: () => {} };

/** A running Sluice on a free loopback port over a fresh store of the given engine. */
export async function startTestServer(
  engine: Engine,
  overrides: Record<string, unknown> = {},
  appOptions: Omit<AppOptions, 'schema'> = {},
): Promise<TestServer> {
  const t = await openTestStore(engine);
  // The test store only prepared the location; the app opens its own.
  await t.store.close();
  const config = loadConfig(
    {},
    {
      port: 0,
      host: '127.0.0.1',
      dataDir: t.location.dataDir,
      databaseUrl: t.location.databaseUrl,
      adminKey: TEST_ADMIN_KEY,
      secretKey: TEST_SECRET_KEY,
      demo: false,
      ...overrides,
    },
  );
  const app = await startApp(config, silent, {
    ...appOptions,
    ...(t.location.schema ? { schema: t.location.schema } : {}),
  });
  const admin = { Authorization: `Bearer ${TEST_ADMIN_KEY}`, 'Content-Type': 'application/json' };
  return {
    app,
    url: app.url,
    admin,
    async createSource(name, kind = 'events') {
      const res = await fetch(`${app.url}/api/sources`, {
        method: 'POST',
        headers: admin,
        body: JSON.stringify({ name, kind }),
      });
      if (res.status !== 201) throw new Error(`creating source ${name}: ${res.status} ${await res.text()}`);
      return (await res.json()) as Source;
    },
    async close() {
      await app.close();
      await t.cleanup().catch(() => {});
    },
  };
}
