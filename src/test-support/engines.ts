import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openStore, postgresWorkspaceNames, type Store } from '../store/index.js';

export const ENGINES = ['duckdb', 'postgres'] as const;
export type Engine = (typeof ENGINES)[number];

export const TEST_DATABASE_URL =
  process.env.SLUICE_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestStore {
  store: Store;
  /** Options that open the same store again (e.g. in a server process). */
  location: { dataDir: string; databaseUrl?: string; schema?: string };
  cleanup(): Promise<void>;
}

/** A fresh, empty store: DuckDB in a temporary folder, or PostgreSQL in a schema of its own. */
export async function openTestStore(engine: Engine): Promise<TestStore> {
  const dataDir = await mkdtemp(join(tmpdir(), 'sluice-test-'));
  if (engine === 'duckdb') {
    const store = await openStore({ dataDir });
    return {
      store,
      location: { dataDir },
      cleanup: async () => {
        await store.close();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  }
  await assertPostgresReachable();
  const schema = `test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const store = await openStore({ dataDir, databaseUrl: TEST_DATABASE_URL, schema });
  return {
    store,
    location: { dataDir, databaseUrl: TEST_DATABASE_URL, schema },
    cleanup: async () => {
      await store.close().catch(() => {});
      await dropSchema(schema);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

async function assertPostgresReachable(): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(
      `PostgreSQL is not reachable at ${TEST_DATABASE_URL} (${(err as Error).message}). ` +
        'The store and ingestion suites run on both engines: start PostgreSQL (.ci/run does) or set SLUICE_TEST_DATABASE_URL.',
    );
  } finally {
    await client.end().catch(() => {});
  }
}

async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    // Orchestration queries made a schema of views and a reader role beside the store's schema.
    const database = (await client.query('SELECT current_database() AS db')).rows[0].db as string;
    const { views, role } = postgresWorkspaceNames(database, schema);
    await client.query(`DROP SCHEMA IF EXISTS "${views}" CASCADE`);
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.query(`DROP ROLE IF EXISTS "${role}"`);
  } finally {
    await client.end();
  }
}
