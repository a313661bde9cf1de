import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DuckDBDatabase } from './duckdb-database.js';

const walSize = (path: string) =>
  stat(`${path}.wal`).then(
    (s) => s.size,
    () => 0,
  );

describe('DuckDB checkpoints', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-duckdb-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  // DuckDB's automatic checkpoint is off (it would run inside a commit, and hold up appenders'
  // synchronous flushes): Sluice's own must keep the log bounded, with appends going on meanwhile.
  it('checkpoints once the log passes its threshold, between appends that all land', async () => {
    const path = join(dir, 'test.duckdb');
    const db = await DuckDBDatabase.open(path, 4, 64 * 1024);
    await db.query('CREATE TABLE t (n BIGINT, text VARCHAR)');
    const padding = 'x'.repeat(200);
    let largest = 0;
    let checkpoints = 0;
    let written = 0;
    const until = Date.now() + 2_000;
    while (Date.now() < until) {
      const writes = Array.from({ length: 4 }, () => {
        const rows = Array.from({ length: 100 }, () => [written++, padding]);
        return db.bulkInsert('t', ['n', 'text'], rows);
      });
      await Promise.all(writes);
      const size = await walSize(path);
      if (size < largest) checkpoints++;
      largest = size;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(checkpoints).toBeGreaterThan(0);
    const [count] = await db.query<{ n: number; distinct: number }>(
      'SELECT count(*) AS n, count(DISTINCT n) AS distinct FROM t',
    );
    expect(count).toEqual({ n: written, distinct: written });
    await db.close();

    const reopened = await DuckDBDatabase.open(path, 1);
    try {
      const [after] = await reopened.query<{ n: number }>('SELECT count(*) AS n FROM t');
      expect(after?.n).toBe(written);
    } finally {
      await reopened.close();
    }
  });

  it('lets the log grow past 16 MB, where DuckDB would checkpoint, while under its threshold', async () => {
    const path = join(dir, 'test.duckdb');
    const db = await DuckDBDatabase.open(path, 1, 64 * 1024 * 1024);
    try {
      await db.query('CREATE TABLE t (n BIGINT, text VARCHAR)');
      for (let i = 0; i < 10; i++) {
        const rows = Array.from({ length: 10_000 }, (_, j) => [i * 10_000 + j, 'y'.repeat(200)]);
        await db.bulkInsert('t', ['n', 'text'], rows);
      }
      const before = await walSize(path);
      await new Promise((resolve) => setTimeout(resolve, 600));
      expect(before).toBeGreaterThan(16 * 1024 * 1024);
      expect(await walSize(path)).toBe(before);
    } finally {
      await db.close();
    }
  });
});
