import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { type Engine, TEST_DATABASE_URL } from './engines.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface SpawnedServer {
  url: string;
  process: ChildProcess;
  /** SIGTERM and wait for the exit (a clean shutdown). */
  stop(): Promise<void>;
  /** SIGKILL: the process dies at once, mid-write if it was writing. */
  kill(): Promise<void>;
}

/** Runs `sluice serve` in a process of its own and waits until `/health` answers. */
export async function spawnServer(env: Record<string, string>, port?: number): Promise<SpawnedServer> {
  const listen = port ?? (await freePort());
  const child = spawn(
    process.execPath,
    // The young generation `npm start` gives the server (see the README's "Start and test").
    ['--max-semi-space-size=64', '--import', 'tsx', 'src/cli/main.ts', 'serve', '--port', String(listen)],
    {
      cwd: ROOT,
      env: { ...process.env, SLUICE_DEMO: 'false', ...env },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const url = `http://127.0.0.1:${listen}`;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (let i = 0; ; i++) {
    if (child.exitCode !== null)
      throw new Error(`sluice serve exited with ${child.exitCode} before answering /health`);
    if (i > 600) throw new Error('sluice serve did not answer /health within 60 s');
    try {
      if ((await fetch(`${url}/health`)).ok) break;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    process: child,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** The admin key of servers started on a `freshLocation`. */
export const SPAWN_ADMIN_KEY = 'sk_crash_test_admin_key_0123456789';

export interface Location {
  /** The environment of a `sluice serve` on this location. */
  env: Record<string, string>;
  store: { dataDir: string; databaseUrl?: string };
  cleanup(): Promise<void>;
}

/** A data dir, and on PostgreSQL a database of its own (a spawned server uses its `public` schema). */
export async function freshLocation(engine: Engine): Promise<Location> {
  const dataDir = await mkdtemp(join(tmpdir(), 'sluice-crash-'));
  const removeDir = () => rm(dataDir, { recursive: true, force: true });
  if (engine === 'duckdb') {
    return {
      env: { SLUICE_DATA_DIR: dataDir, SLUICE_DATABASE_URL: '', SLUICE_ADMIN_KEY: SPAWN_ADMIN_KEY },
      store: { dataDir },
      cleanup: removeDir,
    };
  }
  const name = `sluice_crash_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  await withAdminClient((c) => c.query(`CREATE DATABASE "${name}"`));
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  const databaseUrl = url.toString();
  return {
    env: { SLUICE_DATA_DIR: dataDir, SLUICE_DATABASE_URL: databaseUrl, SLUICE_ADMIN_KEY: SPAWN_ADMIN_KEY },
    store: { dataDir, databaseUrl },
    cleanup: async () => {
      await withAdminClient((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
      await removeDir();
    },
  };
}

async function withAdminClient<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
