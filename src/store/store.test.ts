import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readlink, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type StoredEvent, UserError } from '../core/index.js';
import { ENGINES, openTestStore, type TestStore } from '../test-support/engines.js';
import { migrate, openStore, type SqlValue, type Store } from './index.js';

function event(overrides: Partial<StoredEvent> = {}): StoredEvent {
  return {
    messageId: 'm1',
    sourceId: 'src_1',
    type: 'track',
    userId: 'u1',
    anonymousId: null,
    event: 'Order Completed',
    groupId: null,
    previousId: null,
    timestamp: new Date('2026-01-02T03:04:05.678Z'),
    originalTimestamp: null,
    sentAt: null,
    receivedAt: new Date('2026-01-02T03:04:06.000Z'),
    properties: { revenue: 12.5, items: [{ sku: 'a\tb\nc\\d' }] },
    traits: {},
    context: { ip: '127.0.0.1' },
    ...overrides,
  };
}

describe.each(ENGINES)('store on %s', (engine) => {
  let t: TestStore;
  beforeEach(async () => {
    t = await openTestStore(engine);
  });
  afterEach(async () => {
    await t.cleanup();
  });

  it('migrates once and is idempotent', async () => {
    expect(await migrate(t.store.db)).toEqual([]);
  });

  it('refuses a store a newer Sluice has migrated, and leaves it as it was', async () => {
    const applied = () => t.store.db.query('SELECT version FROM schema_migrations ORDER BY version');
    const newer = Math.max(...(await applied()).map((r) => Number(r.version))) + 1;
    await t.store.db.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
      newer,
      'from a later release',
      new Date(),
    ]);
    const before = await applied();
    const refused = migrate(t.store.db);
    await expect(refused).rejects.toThrow(UserError);
    await expect(refused).rejects.toThrow(`schema version ${newer}, written by a newer Sluice`);
    expect(await applied()).toEqual(before);
  });

  it.runIf(engine === 'postgres')('opens a new schema from several processes at once', async () => {
    // Each open is its own pool, as another process's would be; a few rounds, as it is a race.
    for (let round = 0; round < 3; round++) {
      const location = { ...t.location, schema: `${t.location.schema}_at_once_${round}` };
      const opened = await Promise.allSettled([
        openStore(location),
        openStore(location),
        openStore(location),
      ]);
      const stores = opened.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
      try {
        expect(opened.map((o) => (o.status === 'rejected' ? String(o.reason) : 'opened'))).toEqual([
          'opened',
          'opened',
          'opened',
        ]);
      } finally {
        await stores[0]?.db.query(`DROP SCHEMA IF EXISTS "${location.schema}" CASCADE`);
        for (const s of stores) await s.close();
      }
    }
  });

  // A segment evaluation's estimates are absurd (10^32 rows), so PostgreSQL's JIT would compile
  // for minutes what runs in seconds; every session of the pool, inside a transaction or not.
  it.runIf(engine === 'postgres')('runs its PostgreSQL sessions without JIT', async () => {
    const [outside] = await t.store.db.query<{ jit: string }>('SHOW jit');
    const inside = await t.store.db.transaction((tx) => tx.query<{ jit: string }>('SHOW jit'));
    expect([outside?.jit, inside[0]?.jit]).toEqual(['off', 'off']);
  });

  it('creates sources with unique names and finds them by write key', async () => {
    const s = await t.store.sources.create({ name: 'web', kind: 'events' });
    expect(s.writeKey).toMatch(/^wk_/);
    expect((await t.store.sources.findByWriteKey(s.writeKey))?.id).toBe(s.id);
    expect(await t.store.sources.findByWriteKey('wk_nope')).toBeUndefined();
    await expect(t.store.sources.create({ name: 'web', kind: 'profiles' })).rejects.toThrow(/already exists/);
    expect((await t.store.sources.find('web')).id).toBe(s.id);
  });

  it('round-trips events through the bulk path with exact times and JSON', async () => {
    await t.store.events.append([
      event(),
      event({ messageId: 'm2', userId: null, anonymousId: 'a1', type: 'page' }),
    ]);
    const rows = await t.store.events.query({ limit: 10 });
    expect(rows.map((r) => r.messageId)).toEqual(['m2', 'm1']);
    const m1 = rows[1]!;
    expect(m1.timestamp.toISOString()).toBe('2026-01-02T03:04:05.678Z');
    expect(m1.properties).toEqual({ revenue: 12.5, items: [{ sku: 'a\tb\nc\\d' }] });
    expect(m1.context).toEqual({ ip: '127.0.0.1' });
    expect(rows[0]!.anonymousId).toBe('a1');
    expect((await t.store.events.query({ limit: 10, type: 'page' })).length).toBe(1);
    expect((await t.store.events.query({ limit: 10, userId: 'u1' })).length).toBe(1);
  });

  it('writes every kind of value exactly through the bulk path, in small writes and large ones', async () => {
    const json = t.store.db.dialect.jsonType;
    await t.store.db.query(
      `CREATE TABLE bulk_values (k BIGINT, t VARCHAR, n DOUBLE PRECISION, b BOOLEAN, ts TIMESTAMPTZ, j ${json})`,
    );
    const at = new Date('2026-01-02T03:04:05.678Z');
    const duck = engine === 'duckdb';
    const columns = ['k', 't', 'n', 'b', 'ts', 'j'];
    const values: SqlValue[][] = [
      [1, 'plain', 2.5, true, at, '{"a":[1,"x\\ty"]}'],
      [2, '', -0.5, false, null, null],
      [3, null, 1e-7, null, at, '"text"'],
      [4, 'ünïcödé \\ "quoted"', -1e300, false, at, '{"k":"v"}'],
      // Written by the appender even in a small write: the text form cannot carry them.
      [5, 'a\tb', 0, true, at, '{}'],
      [6, 'line\nbreak', 2 ** 53 - 1, false, at, '[]'],
      [7, '\\N', null, true, at, 'null'],
      // -0 and a time past year 9999: DuckDB keeps them (PostgreSQL's bulk path keeps neither).
      [8, 'zero', duck ? -0 : 0, true, at, null],
      [10, 'far', 1, true, duck ? new Date('+010000-01-01T00:00:00.000Z') : at, null],
      [9_007_199_254_740_991, 'last', 1, false, new Date('0001-01-01T00:00:00.000Z'), null],
    ];
    const read = async () =>
      (
        await t.store.db.query<Record<string, unknown>>(
          `SELECT k, t, n, b, ts, CAST(j AS ${duck ? 'VARCHAR' : 'TEXT'}) AS j FROM bulk_values ORDER BY k`,
        )
      ).map((r) => [r.k, r.t, r.n, r.b, r.ts, r.j === null ? null : JSON.parse(String(r.j))]);
    const expected = values.map((v) => [...v.slice(0, 5), v[5] === null ? null : JSON.parse(String(v[5]))]);
    // First the values the text form carries; then the others, each row in a write of its own (a
    // write holding one of them goes through the appender whole, which would hide the others).
    await t.store.db.bulkInsert('bulk_values', columns, values.slice(0, 4));
    expect(await read()).toEqual(expected.slice(0, 4));
    for (const row of values.slice(4)) await t.store.db.bulkInsert('bulk_values', columns, [row]);
    expect(await read()).toEqual(expected);
    // A large write (an import's) takes the same values.
    await t.store.db.query('DELETE FROM bulk_values');
    const many = Array.from({ length: 6_000 }, (_, i) => values[i % 3]!);
    await t.store.db.bulkInsert('bulk_values', columns, many);
    const [counts] = await t.store.db.query<{ n: number; empty: number; nulls: number }>(
      `SELECT count(*) AS n, count(*) FILTER (WHERE t = '') AS empty, count(*) FILTER (WHERE t IS NULL) AS nulls FROM bulk_values`,
    );
    expect(counts).toEqual({ n: 6_000, empty: 2_000, nulls: 2_000 });
  });

  it('commits concurrent appends in the order of their numbers: no reader sees a later row before an earlier', async () => {
    const sizes = Array.from({ length: 24 }, (_, i) => (i % 3 === 0 ? 500 : 1 + (i % 7)));
    let message = 0;
    const checks = sizes.map(async (size) => {
      const first = await t.store.events.append(
        Array.from({ length: size }, () => event({ messageId: `c${message++}` })),
      );
      const last = first + size - 1;
      const [row] = await t.store.db.query<{ n: number }>(
        'SELECT count(*) AS n FROM events WHERE seq <= $1',
        [last],
      );
      return row!.n === last;
    });
    expect(await Promise.all(checks)).toEqual(sizes.map(() => true));
  });

  it('numbers events in arrival order across appends', async () => {
    await t.store.events.append([event({ messageId: 'a' }), event({ messageId: 'b' })]);
    await t.store.events.append([event({ messageId: 'c' })]);
    const rows = await t.store.events.query({ limit: 10 });
    expect(rows.map((r) => [r.messageId, r.seq])).toEqual([
      ['c', 3],
      ['b', 2],
      ['a', 1],
    ]);
  });

  it("never hands out again the numbers of an import's deleted events, across a reopen", async () => {
    await t.store.events.append([event({ messageId: 'a' })]);
    const imported = await t.store.events.append(
      [event({ messageId: 'b' }), event({ messageId: 'c' })],
      'imp_1',
    );
    // A failed import's events are removed before it is redone; their numbers stay used.
    await t.store.events.deleteImport('imp_1');
    await t.store.close();
    const again = await openStore(t.location);
    try {
      expect(await again.events.append([event({ messageId: 'd' })])).toBe(imported + 2);
    } finally {
      await again.close();
    }
  });

  it('keeps admin keys as hashes and honours revocation', async () => {
    const { key, apiKey } = await t.store.apiKeys.create('ci');
    expect(await t.store.apiKeys.isValid(key)).toBe(true);
    expect(await t.store.apiKeys.isValid(`${key}x`)).toBe(false);
    const stored = await t.store.db.query('SELECT key_hash FROM api_keys');
    expect(JSON.stringify(stored)).not.toContain(key);
    expect(await t.store.apiKeys.revoke(apiKey.id)).toBe(true);
    expect(await t.store.apiKeys.isValid(key)).toBe(false);
  });

  it('stores profile records and rejects, and reports stats per source', async () => {
    const s = await t.store.sources.create({ name: 'crm', kind: 'profiles' });
    const now = new Date();
    await t.store.records.append([
      {
        recordId: 'r1',
        sourceId: s.id,
        importId: null,
        rowNumber: 2,
        identifiers: { email: ['a@x.com'] },
        attributes: { first_name: 'Ann', points: 3 },
        receivedAt: now,
      },
    ]);
    await t.store.rejects.append([
      {
        sourceId: s.id,
        importId: null,
        rowNumber: 3,
        messageId: null,
        reason: 'no identifier',
        path: null,
        payload: 'x',
        receivedAt: now,
      },
    ]);
    const recs = await t.store.records.list(s.id, 10);
    expect(recs[0]?.attributes).toEqual({ first_name: 'Ann', points: 3 });
    const rejects = await t.store.rejects.list(s.id, { limit: 10 });
    expect(rejects[0]?.rowNumber).toBe(3);
    const stats = await t.store.sourceStats(s.id);
    expect(stats.profileRecords.total).toBe(1);
    expect(stats.rejects.total).toBe(1);
    expect(stats.events.total).toBe(0);
  });
});

describe('the DuckDB store file', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'sluice-test-'));
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('is written in row groups of 16,384 rows, so a checkpoint holds writers up for one of those', async () => {
    const store = await openStore({ dataDir });
    try {
      await store.db.query('CREATE TABLE numbers AS SELECT range AS n FROM range(40000)');
      await store.db.query('CHECKPOINT');
      const groups = await store.db.query<{ rows: number }>(
        "SELECT DISTINCT row_group_id, count AS rows FROM pragma_storage_info('numbers') ORDER BY row_group_id",
      );
      expect(groups.map((g) => g.rows)).toEqual([16_384, 16_384, 7_232]);
      // What does not fit in memory spills next to the file, not to the working directory.
      const [temp] = await store.db.query<{ dir: string }>("SELECT current_setting('temp_directory') AS dir");
      expect(temp?.dir).toBe(join(dataDir, 'sluice.duckdb.tmp'));
    } finally {
      await store.close();
    }
  });

  it("takes on a file written with DuckDB's own row groups: appends, checkpoints and reopens", async () => {
    // A store from before: its tables in row groups of up to 122,880 rows, one with a key.
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const before = await DuckDBInstance.create(join(dataDir, 'sluice.duckdb'));
    const c = await before.connect();
    await c.run('CREATE TABLE keyed (id BIGINT PRIMARY KEY, v VARCHAR)');
    await c.run('CREATE TABLE plain (id BIGINT, v VARCHAR)');
    for (const table of ['keyed', 'plain'])
      await c.run(`INSERT INTO ${table} SELECT range, 'v' || range FROM range(100000)`);
    c.closeSync();
    before.closeSync();
    const count = (store: Store, table: string) =>
      store.db.query<{ n: number }>(`SELECT count(*) AS n FROM ${table}`).then((r) => Number(r[0]?.n));
    let store = await openStore({ dataDir });
    try {
      for (const table of ['keyed', 'plain']) {
        await store.db.query(`INSERT INTO ${table} SELECT range, 'w' || range FROM range(100000, 150000)`);
      }
      await store.db.query('CHECKPOINT');
    } finally {
      await store.close();
    }
    store = await openStore({ dataDir });
    try {
      expect([await count(store, 'keyed'), await count(store, 'plain')]).toEqual([150_000, 150_000]);
      await expect(store.db.query("INSERT INTO keyed VALUES (120000, 'again')")).rejects.toThrow(
        /constraint/i,
      );
      const [last] = await store.db.query<{ v: string }>('SELECT v FROM keyed WHERE id = 149999');
      expect(last?.v).toBe('w149999');
    } finally {
      await store.close();
    }
  });

  // The kernel's list of this process's open files (/proc) is Linux's, where CI runs.
  it.runIf(process.platform === 'linux')('is closed again when it cannot be brought up to date', async () => {
    // A table of a migration's name already there: the first migration fails.
    const file = join(dataDir, 'sluice.duckdb');
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const other = await DuckDBInstance.create(file);
    const c = await other.connect();
    await c.run('CREATE TABLE sources (x INTEGER)');
    // The handles this process holds on the file (as the kernel names it: the real path).
    const real = await realpath(file);
    const handles = async () => {
      const held = [];
      for (const fd of await readdir('/proc/self/fd')) {
        const target = await readlink(`/proc/self/fd/${fd}`).catch(() => '');
        if (target.startsWith(real)) held.push(target);
      }
      return held;
    };
    expect(await handles()).not.toEqual([]);
    c.closeSync();
    other.closeSync();
    await expect(openStore({ dataDir })).rejects.toThrow(/sources/);
    expect(await handles()).toEqual([]);
  });

  it('is refused while another process holds it, with what to do instead', async () => {
    const path = join(dataDir, 'sluice.duckdb');
    // The other process opens the file as DuckDB does by default and holds it until its input ends.
    const holder = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { DuckDBInstance } = await import('@duckdb/node-api');
         await DuckDBInstance.create(${JSON.stringify(path)});
         console.log('holding');
         process.stdin.resume();
         process.stdin.on('end', () => process.exit(0));`,
      ],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        holder.stdout.on('data', (d: Buffer) => d.toString().includes('holding') && resolve());
        holder.on('exit', (code) => reject(new Error(`the holder exited with ${code}`)));
      });
      const refused = openStore({ dataDir });
      await expect(refused).rejects.toBeInstanceOf(UserError);
      await expect(refused).rejects.toMatchObject({ code: 'store_in_use' });
      await expect(refused).rejects.toThrow(/open in another process/);
    } finally {
      holder.stdin.end();
      if (holder.exitCode === null) await new Promise((resolve) => holder.on('exit', resolve));
    }
    // Once the other process is gone, the store opens.
    const store = await openStore({ dataDir });
    await store.close();
  });
});
