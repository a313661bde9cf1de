import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type SpawnedServer, spawnServer as spawn } from '../src/test-support/spawn-server.js';

export const BENCH_ADMIN_KEY = 'sk_bench_admin_key_0123456789';

/** Starts `sluice serve` on a fresh DuckDB store in its own process (apart from the load generator). */
export async function spawnServer(
  env: Record<string, string> = {},
): Promise<SpawnedServer & { dataDir: string }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'sluice-bench-'));
  return {
    ...(await spawn({ SLUICE_DATA_DIR: dataDir, SLUICE_ADMIN_KEY: BENCH_ADMIN_KEY, ...env })),
    dataDir,
  };
}

/** Prints the closing JSON line every benchmark ends with. */
export function report(
  bench: string,
  metrics: Record<string, number>,
  targets: Record<string, number>,
): void {
  console.log(JSON.stringify({ bench, metrics, targets }));
}
