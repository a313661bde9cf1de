import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseOrThrow, UserError } from '../../../core/index.js';
import { batchOf } from '../../../test-support/conformance.js';
import { failureOf } from '../../../test-support/delivery.js';
import { TEST_DATABASE_URL } from '../../../test-support/engines.js';
import { DeliveryFailure } from '../../connector.js';
import { secretFieldsOf } from '../../secret-fields.js';
import { PostgresConfigSchema } from './postgres-config.js';
import { postgresConnector } from './postgres-connector.js';

let admin: pg.Client;
let schema: string;

beforeEach(async () => {
  schema = `dest_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA "${schema}"`);
});
afterEach(async () => {
  await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await admin.end();
});

function contextFor(overrides: Record<string, unknown> = {}) {
  const config = parseOrThrow(
    PostgresConfigSchema,
    { connectionString: TEST_DATABASE_URL, schema, table: 'buyers', ...overrides },
    'postgres config',
  );
  return { config, signal: new AbortController().signal, tempDir: '/tmp' };
}

const deliveryFailure = (promise: Promise<unknown>) => failureOf(promise, DeliveryFailure);

async function tableRows(table = 'buyers') {
  const { rows } = await admin.query(`SELECT * FROM "${schema}"."${table}" ORDER BY profile_id`);
  return rows as Record<string, unknown>[];
}

const people = [
  { profile_id: 'p1', email: 'ada@example.com', first_name: 'Ada' },
  { profile_id: 'p2', email: 'grace@example.com', first_name: null },
];

describe('postgres config', () => {
  it('marks the connection string secret and fills defaults', () => {
    expect(postgresConnector.configSchema).toBe(PostgresConfigSchema);
    expect(secretFieldsOf(PostgresConfigSchema)).toEqual(['connectionString']);
    const { config } = contextFor();
    expect(config).toMatchObject({ keyField: 'profile_id', mode: 'upsert', createTable: true });
    expect(postgresConnector.capabilities(config)).toMatchObject({
      kind: 'records',
      supportsRemovals: false,
    });
    expect(postgresConnector.capabilities(contextFor({ mode: 'mirror' }).config).supportsRemovals).toBe(true);
  });

  it('refuses unsafe names with a UserError naming the field', () => {
    expect(() => contextFor({ table: 'buyers"; DROP TABLE users; --' })).toThrow(UserError);
    expect(() => contextFor({ table: 'buyers"; DROP TABLE users; --' })).toThrow(
      /at table: table must be a plain SQL name/,
    );
    expect(() => contextFor({ schema: 'my schema' })).toThrow(/at schema: schema must be/);
    expect(() => contextFor({ keyField: 'x'.repeat(64) })).toThrow(/at keyField: keyField must be/);
    expect(() => contextFor({ connectionString: 'mysql://root:pw@db/x' })).toThrow(
      /at connectionString: connectionString must be a postgres:\/\//,
    );
  });
});

describe('postgres delivery', () => {
  it('creates the table with TEXT columns and the key as primary key, then upserts', async () => {
    const result = await postgresConnector.deliver(contextFor(), batchOf(people));
    expect(result).toMatchObject({ accepted: 2, rejected: 0, detail: { rowsChanged: 2 } });
    expect(await tableRows()).toEqual([
      { profile_id: 'p1', email: 'ada@example.com', first_name: 'Ada', sluice_updated_at: expect.any(Date) },
      { profile_id: 'p2', email: 'grace@example.com', first_name: null, sluice_updated_at: expect.any(Date) },
    ]);
    const { rows: columns } = await admin.query(
      `SELECT column_name, data_type FROM information_schema.columns
        WHERE table_schema = $1 AND table_name = 'buyers' ORDER BY ordinal_position`,
      [schema],
    );
    expect(columns.map((c) => `${c.column_name} ${c.data_type}`)).toEqual([
      'profile_id text',
      'email text',
      'first_name text',
      'sluice_updated_at timestamp with time zone',
    ]);
    const { rows: key } = await admin.query(
      `SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
        WHERE i.indrelid = $1::regclass AND i.indisprimary`,
      [`"${schema}".buyers`],
    );
    expect(key).toEqual([{ attname: 'profile_id' }]);

    const update = await postgresConnector.deliver(
      contextFor(),
      batchOf([{ profile_id: 'p2', email: 'grace@example.org', first_name: 'Grace' }], {
        key: 'run_2:dst:0',
      }),
    );
    expect(update.detail).toMatchObject({ rowsChanged: 1 });
    expect((await tableRows()).map((r) => [r.profile_id, r.email, r.first_name])).toEqual([
      ['p1', 'ada@example.com', 'Ada'],
      ['p2', 'grace@example.org', 'Grace'],
    ]);
  });

  it('changes nothing when the same batch is delivered again', async () => {
    await postgresConnector.deliver(contextFor(), batchOf(people));
    const { rows: before } = await admin.query(`SELECT xmin::text, * FROM "${schema}".buyers ORDER BY 2`);
    const again = await postgresConnector.deliver(contextFor(), batchOf(people));
    const { rows: after } = await admin.query(`SELECT xmin::text, * FROM "${schema}".buyers ORDER BY 2`);
    expect(again).toMatchObject({ accepted: 2, detail: { rowsChanged: 0 } });
    // Same row versions: the resend did not even rewrite identical rows.
    expect(after).toEqual(before);
  });

  it('keeps text exactly, tabs, newlines, backslashes and quotes included; the later of two rows for a key wins', async () => {
    const tricky = 'O\'Brien\t"Bob"\\n\nline two\r\\';
    await postgresConnector.deliver(
      contextFor(),
      batchOf([
        { profile_id: 'p1', email: 'old@example.com', first_name: 'x', score: 3, vip: true },
        { profile_id: 'p1', email: 'new@example.com', first_name: tricky, score: 4.5, vip: false },
      ]),
    );
    expect((await tableRows()).map((r) => [r.email, r.first_name, r.score, r.vip])).toEqual([
      ['new@example.com', tricky, '4.5', 'false'],
    ]);
  });

  it('rejects rows without the key, with their position, and writes the rest', async () => {
    const result = await postgresConnector.deliver(
      contextFor(),
      batchOf([people[0]!, { profile_id: null, email: 'nobody@example.com', first_name: 'No' }, people[1]!]),
    );
    expect(result).toMatchObject({
      accepted: 2,
      rejected: 1,
      rejections: [{ row: 1, reason: 'no profile_id' }],
    });
    expect((await tableRows()).map((r) => r.profile_id)).toEqual(['p1', 'p2']);

    const keyless = Array.from({ length: 105 }, (_, i) => ({ profile_id: '', email: `n${i}@example.com` }));
    const many = await postgresConnector.deliver(
      contextFor(),
      batchOf([...keyless, people[0]!], { key: 'b:1' }),
    );
    expect(many).toMatchObject({ accepted: 1, rejected: 105 });
    expect(many.rejections).toHaveLength(101);
    expect(many.rejections.at(-1)).toEqual({ reason: 'no profile_id', count: 5 });
  });

  it('adds a column when a batch brings a new field', async () => {
    await postgresConnector.deliver(contextFor(), batchOf(people));
    await postgresConnector.deliver(
      contextFor(),
      batchOf([{ profile_id: 'p3', email: 'alan@example.com', city: 'Wilmslow' }], { key: 'run_2:dst:0' }),
    );
    expect((await tableRows()).map((r) => [r.profile_id, r.first_name, r.city])).toEqual([
      ['p1', 'Ada', null],
      ['p2', null, null],
      ['p3', null, 'Wilmslow'],
    ]);
  });

  it('refuses a batch field that cannot be a column', async () => {
    const failure = await deliveryFailure(
      postgresConnector.deliver(contextFor(), batchOf([{ profile_id: 'p1', 'e-mail; drop': 'x' }])),
    );
    expect(failure.disposition).toBe('refused');
    expect(failure.message).toContain('field "e-mail; drop" cannot be a column');
  });

  it('in mirror mode deletes removed people; in upsert mode refuses removes', async () => {
    const mirror = contextFor({ mode: 'mirror' });
    await postgresConnector.deliver(mirror, batchOf(people));
    const removed = await postgresConnector.deliver(
      mirror,
      batchOf([{ profile_id: 'p1' }, { profile_id: 'p9' }], {
        key: 'run_2:dst:remove:0',
        operation: 'remove',
      }),
    );
    expect(removed).toMatchObject({ accepted: 2, detail: { rowsChanged: 1 } });
    expect((await tableRows()).map((r) => r.profile_id)).toEqual(['p2']);

    const failure = await deliveryFailure(
      postgresConnector.deliver(contextFor(), batchOf([{ profile_id: 'p2' }], { operation: 'remove' })),
    );
    expect(failure.disposition).toBe('refused');
    expect((await tableRows()).map((r) => r.profile_id)).toEqual(['p2']);
  });

  it('with createTable off, refuses a missing table or column instead of creating it', async () => {
    const ctx = contextFor({ createTable: false });
    expect((await deliveryFailure(postgresConnector.deliver(ctx, batchOf(people)))).message).toMatch(
      /table dest_\w+\.buyers does not exist: create it, or turn on createTable/,
    );
    await admin.query(`CREATE TABLE "${schema}".buyers (profile_id text PRIMARY KEY, email text)`);
    expect((await deliveryFailure(postgresConnector.deliver(ctx, batchOf(people)))).message).toMatch(
      /has no column first_name, sluice_updated_at/,
    );
    await admin.query(
      `ALTER TABLE "${schema}".buyers ADD first_name text, ADD sluice_updated_at timestamptz`,
    );
    await expect(postgresConnector.deliver(ctx, batchOf(people))).resolves.toMatchObject({ accepted: 2 });
  });
});

describe('postgres test', () => {
  it('passes when the table can be created, and after it exists', async () => {
    await postgresConnector.test(contextFor());
    await postgresConnector.deliver(contextFor(), batchOf(people));
    await postgresConnector.test(contextFor({ mode: 'mirror' }));
    expect(await tableRows()).toHaveLength(2);
  });

  it('says when the schema or the table is missing', async () => {
    await expect(postgresConnector.test(contextFor({ schema: `${schema}_gone` }))).rejects.toThrow(
      new RegExp(`schema ${schema}_gone does not exist in database test`),
    );
    await expect(postgresConnector.test(contextFor({ createTable: false }))).rejects.toThrow(
      /does not exist and createTable is off/,
    );
  });

  it('refuses bad credentials and unknown databases without leaking the password', async () => {
    // The test server trusts every local connection, so a user it does not know stands in for a wrong password.
    const password = 'S3cr3t-pa55w0rd';
    const badUser = await deliveryFailure(
      postgresConnector.test(
        contextFor({ connectionString: `postgres://sluice_nobody:${password}@127.0.0.1:5432/test` }),
      ),
    );
    expect(badUser.disposition).toBe('refused');
    expect(badUser.message).toMatch(
      /postgres 127\.0\.0\.1:5432\/test: .*sluice_nobody.*check the user in connectionString/,
    );
    expect(badUser.message).not.toContain(password);

    const badDb = await deliveryFailure(
      postgresConnector.test(
        contextFor({ connectionString: `postgres://postgres:${password}@127.0.0.1:5432/no_such_db` }),
      ),
    );
    expect(badDb.disposition).toBe('refused');
    expect(badDb.message).toMatch(/no_such_db.*check the database in connectionString/);
    expect(badDb.message).not.toContain(password);
  });

  it('retries when the server cannot be reached', async () => {
    const failure = await deliveryFailure(
      postgresConnector.test(contextFor({ connectionString: 'postgres://postgres:pw@127.0.0.1:1/test' })),
    );
    expect(failure.disposition).toBe('retry');
    expect(failure.message).toBe('postgres 127.0.0.1:1/test: cannot reach the server (ECONNREFUSED)');
  });
});
