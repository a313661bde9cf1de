import { tmpdir } from 'node:os';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../core/index.js';
import { failureOf } from '../test-support/delivery.js';
import { ENGINES, openTestStore, TEST_DATABASE_URL, type TestStore } from '../test-support/engines.js';
import { seedWorkspace } from '../test-support/workspace.js';
import { postgresWorkspaceNames } from './postgres-workspace-query.js';
import { openStore, type Store } from './store.js';
import type { Cell } from './workspace-query.js';

const TIMEOUT_MS = 10_000;

describe.each(ENGINES)('workspace queries on %s', (engine) => {
  let t: TestStore;
  const read = (sql: string, limit?: number, timeoutMs = TIMEOUT_MS) =>
    t.store.workspaceQueries.read(sql, { limit, timeoutMs }, async (columns, pages) => {
      const rows: Cell[][] = [];
      for await (const page of pages) rows.push(...page);
      return { columns, rows };
    });
  /** The refusal of a query: a UserError about `query`, with the engine's or the check's reason. */
  const refusal = async (sql: string) => {
    const err = await failureOf(read(sql), UserError);
    expect(err.issues.map((i) => i.path)).toEqual([['query']]);
    return err;
  };
  /** Counts of what a refused query might have changed or read. */
  const guarded = async () => ({
    events: (await t.store.db.query('SELECT count(*) AS n FROM events'))[0]!.n,
    keys: (await t.store.db.query('SELECT count(*) AS n FROM api_keys'))[0]!.n,
    attributes: (await t.store.db.query('SELECT count(*) AS n FROM profile_attributes'))[0]!.n,
  });

  beforeAll(async () => {
    t = await openTestStore(engine);
    await seedWorkspace(t.store);
    await t.store.apiKeys.create('ci');
  });
  afterAll(async () => {
    await t.cleanup();
  });

  it('reads every view, JSON documents with ->> alike on both engines', async () => {
    const profiles = await read(
      `SELECT profile_id, attributes->>'first_name' AS first_name, attributes->>'tier' AS tier,
         traits->>'order_count' AS orders, first_seen_at
       FROM profiles ORDER BY profile_id`,
    );
    expect(profiles).toEqual({
      columns: ['profile_id', 'first_name', 'tier', 'orders', 'first_seen_at'],
      rows: [
        ['prf_ann', 'Ann', 'gold', '1', '2026-03-01T09:00:00+00:00'],
        ['prf_bob', 'Bob', 'silver', null, '2026-03-01T09:00:00+00:00'],
        ['prf_cid', 'Cid', null, null, '2026-03-01T09:00:00+00:00'],
      ],
    });
    const orders = await read(
      `SELECT e.profile_id, i.value AS email, CAST(e.properties->>'revenue' AS INTEGER) AS revenue, m.segment_name
       FROM events e JOIN identifiers i ON i.profile_id = e.profile_id AND i.namespace = 'email'
       LEFT JOIN memberships m ON m.profile_id = e.profile_id
       WHERE e.event = 'Order Completed' ORDER BY revenue DESC`,
    );
    expect(orders.rows).toEqual([
      ['prf_cid', 'cid@example.com', 30, null],
      ['prf_bob', 'bob@example.com', 20, 'Gold'],
      ['prf_ann', 'ann@example.com', 10, 'Gold'],
    ]);
  });

  it('stops at the limit, and describes a query without reading it', async () => {
    const limited = await read('SELECT profile_id FROM profiles ORDER BY profile_id', 2);
    expect(limited.rows).toEqual([['prf_ann'], ['prf_bob']]);
    expect(await t.store.workspaceQueries.describe('SELECT * FROM memberships', TIMEOUT_MS)).toEqual([
      'segment_id',
      'segment_name',
      'profile_id',
      'since',
    ]);
    const empty = await read("SELECT profile_id AS id FROM profiles WHERE profile_id = 'nobody'");
    expect(empty).toEqual({ columns: ['id'], rows: [] });
  });

  it('writes values as PostgreSQL’s to_json would, on both engines', async () => {
    const { rows } = await read(
      `SELECT CAST('2026-03-01 09:00:00.5+00' AS TIMESTAMPTZ) AS at, CAST('2026-03-01 09:00:00' AS TIMESTAMP) AS local,
         CAST('2026-01-02' AS DATE) AS day, CAST(12345678901 AS BIGINT) AS big, CAST(1.50 AS DECIMAL(10, 2)) AS price,
         CAST('NaN' AS DOUBLE PRECISION) AS nan, true AS yes, CAST(NULL AS VARCHAR) AS nothing,
         CAST('{"a":[1,2]}' AS ${engine === 'duckdb' ? 'JSON' : 'JSONB'}) AS doc`,
    );
    expect(rows).toEqual([
      [
        '2026-03-01T09:00:00.5+00:00',
        '2026-03-01T09:00:00',
        '2026-01-02',
        12345678901,
        1.5,
        'NaN',
        true,
        null,
        '{"a":[1,2]}',
      ],
    ]);
  });

  it('refuses results no file can carry: two columns of one name', async () => {
    const err = await refusal('SELECT p.profile_id, i.profile_id FROM profiles p JOIN identifiers i ON true');
    expect(err.code).toBe('duplicate_column');
  });

  const writes = [
    "INSERT INTO events (message_id) VALUES ('x')",
    "UPDATE api_keys SET name = 'owned'",
    'DELETE FROM profile_attributes',
    'CREATE TABLE stolen AS SELECT 1 AS x',
    "ATTACH '/tmp/elsewhere.duckdb' AS elsewhere",
    "COPY (SELECT 1) TO '/tmp/sluice-copy.csv'",
    'PRAGMA database_list',
    "SET search_path = 'main'",
    'SELECT 1; DELETE FROM profile_attributes',
    'DROP VIEW profiles',
  ];
  it.each(writes)('refuses anything but a query: %s', async (sql) => {
    const before = await guarded();
    const err = await refusal(sql);
    expect(err.code).toMatch(/^(query_not_read_only|invalid_query)$/);
    expect(err.message).toMatch(/not queries|statements|syntax error|SELECT|not allowed|read-only/i);
    expect(await guarded()).toEqual(before);
  });

  it('refuses reading stored tables, however the query names them', async () => {
    const schema = engine === 'duckdb' ? 'main' : `"${t.location.schema}"`;
    const reads = [
      'SELECT * FROM api_keys',
      'SELECT key_hash FROM api_keys',
      `SELECT key_hash FROM ${schema}.api_keys`,
      `SELECT secrets FROM ${schema}.destinations`,
      `SELECT * FROM profiles WHERE profile_id IN (SELECT key_hash FROM ${schema}.api_keys)`,
      `WITH k AS (SELECT * FROM ${schema}.api_keys) SELECT * FROM k`,
      // A WITH query named like a stored table, read where it is out of scope.
      'SELECT * FROM (WITH api_keys AS (SELECT 1 AS k) SELECT * FROM api_keys) a, api_keys',
      `SELECT count(*) FROM ${schema}.profile_attributes`,
    ];
    for (const sql of reads) {
      const err = await refusal(sql);
      expect(err.message, sql).toMatch(
        /not a workspace view|may not be named|does not exist|permission denied|not allowed/,
      );
    }
  });

  it.runIf(engine === 'duckdb')('refuses files, table functions and catalog commands on DuckDB', async () => {
    for (const sql of [
      "SELECT * FROM read_csv('/etc/passwd')",
      "SELECT * FROM '/etc/passwd'",
      "SELECT * FROM query('SELECT * FROM api_keys')",
      'SUMMARIZE api_keys',
      'DESCRIBE api_keys',
      'SELECT * FROM duckdb_tables()',
      'SHOW TABLES',
      'SELECT * FROM information_schema.tables',
    ]) {
      const err = await refusal(sql);
      expect(err.code, sql).toBe('query_not_read_only');
    }
    expect((await read('SELECT * FROM range(3) r(n)')).rows).toEqual([[0], [1], [2]]);
  });

  it.runIf(engine === 'postgres')(
    'on PostgreSQL the reader role cannot be left, not even inside one SELECT',
    async () => {
      const schema = `"${t.location.schema}"`;
      for (const sql of [
        `SELECT set_config('role', session_user, true) AS r, query_to_xml('SELECT key_hash FROM ${schema}.api_keys', true, false, '') AS x`,
        `SELECT query_to_xml('SELECT set_config(''session_authorization'', session_user, true)', true, false, '') AS x`,
        "SELECT pg_read_file('/etc/passwd') AS f",
        `SELECT query_to_xml('DELETE FROM ${schema}.profile_attributes RETURNING 1', true, false, '') AS x`,
      ]) {
        const before = await guarded();
        const err = await refusal(sql);
        expect(err.message, sql).toMatch(/permission denied|cannot set parameter|read-only|must be/);
        expect(await guarded()).toEqual(before);
      }
    },
  );

  it('stops a query that runs too long', async () => {
    const err = await failureOf(
      read(
        'SELECT count(*) AS n FROM generate_series(1, 100000) a, generate_series(1, 100000) b',
        undefined,
        300,
      ),
      UserError,
    );
    expect(err.code).toBe('query_timeout');
    // The store goes on answering.
    expect((await read('SELECT count(*) AS n FROM profiles')).rows).toEqual([[3]]);
  });
});

describe('workspace queries on PostgreSQL for a user who may not create roles', () => {
  it('are refused with what an administrator must run once, and work once it is done', async () => {
    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    const suffix = Math.random().toString(36).slice(2, 10);
    const user = `sluice_plain_${suffix}`;
    const schema = `test_plain_${suffix}`;
    const url = new URL(TEST_DATABASE_URL);
    const { views, role } = postgresWorkspaceNames(url.pathname.slice(1), schema);
    let store: Store | undefined;
    try {
      // As a database's owner usually is: it may create schemas, not roles.
      await admin.query(`CREATE ROLE "${user}" LOGIN`);
      await admin.query(`GRANT CREATE ON DATABASE "${url.pathname.slice(1)}" TO "${user}"`);
      url.username = user;
      store = await openStore({ dataDir: tmpdir(), databaseUrl: url.toString(), schema });
      const refused = await failureOf(
        store.workspaceQueries.describe('SELECT * FROM profiles', TIMEOUT_MS),
        UserError,
      );
      expect(refused.code).toBe('query_sandbox_unavailable');
      expect(refused.message).toContain('permission denied to create role');
      const statements = [
        `CREATE ROLE "${role}" NOLOGIN`,
        `GRANT "${role}" TO "${user}"`,
        `CREATE SCHEMA "${views}" AUTHORIZATION "${user}"`,
      ];
      for (const statement of statements) expect(refused.message).toContain(statement);

      for (const statement of statements) await admin.query(statement);
      expect(await store.workspaceQueries.describe('SELECT profile_id FROM profiles', TIMEOUT_MS)).toEqual([
        'profile_id',
      ]);
      const denied = await failureOf(
        store.workspaceQueries.describe(`SELECT key_hash FROM "${schema}".api_keys`, TIMEOUT_MS),
        UserError,
      );
      expect(denied.message).toMatch(/permission denied for schema/);
    } finally {
      await store?.close();
      await admin.query(`DROP SCHEMA IF EXISTS "${views}" CASCADE`);
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.query(`DROP OWNED BY "${user}"`);
      await admin.query(`DROP ROLE IF EXISTS "${role}"`);
      await admin.query(`DROP ROLE IF EXISTS "${user}"`);
      await admin.end();
    }
  });
});
