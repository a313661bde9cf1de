import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import {
  countFrom,
  type Database,
  type NumberFrom,
  type Row,
  type SequencedTable,
  type SqlValue,
  type StoreLock,
} from './database.js';
import { postgresDialect } from './dialect.js';
import { lockMigrations } from './migrations.js';
import { storableText } from './storable-text.js';

// BIGINT (count(*), sequences) as number: our counters stay far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (v) => Number(v));

type Queryable = pg.Pool | pg.PoolClient;

/** PostgreSQL behind the `Database` seam. `schema` isolates a workspace (and each test). */
export class PostgresDatabase implements Database {
  readonly dialect = postgresDialect;
  /** Clients kept out of the pool for the session locks they hold. */
  private readonly lockClients = new Set<pg.PoolClient>();

  private constructor(
    private readonly pool: pg.Pool,
    private readonly client: Queryable,
  ) {}

  static async open(url: string, schema?: string): Promise<PostgresDatabase> {
    const pool = new pg.Pool({
      connectionString: url,
      max: 8,
      // Times without a zone are read as UTC whatever the server's zone, as on DuckDB. No JIT: a
      // segment evaluation joins grouped features the planner estimates at 10^32 rows, and JIT
      // compiled 10,216 functions for 187 s (summed over workers) in a statement of 181 s that
      // evaluates in 14.5 s without it (500 segments, 20,000 profiles, 420,000 events).
      options: `-c timezone=UTC -c jit=off${schema ? ` -c search_path=${quoteIdent(schema)}` : ''}`,
    });
    // An idle client's error (server restart) must not crash the process; the next query reconnects.
    pool.on('error', () => {});
    const db = new PostgresDatabase(pool, pool);
    try {
      if (schema) {
        // Two processes creating the schema at once would both create it, and one would fail.
        await db.transaction(async (tx) => {
          await lockMigrations(tx);
          await tx.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
        });
      } else await pool.query('SELECT 1');
    } catch (err) {
      await pool.end().catch(() => {});
      throw err;
    }
    return db;
  }

  async query<T extends Row = Row>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    const result = await this.client.query(sql, params as unknown[]);
    return result.rows as T[];
  }

  async bulkInsert(
    table: string,
    columns: readonly string[],
    rows: readonly SqlValue[][],
    options: { skipConflicts?: boolean } = {},
  ): Promise<void> {
    if (rows.length === 0) return;
    if (!options.skipConflicts) {
      if (this.client !== this.pool) return copyRows(this.client as pg.PoolClient, table, columns, rows);
      const client = await this.pool.connect();
      try {
        return await copyRows(client, table, columns, rows);
      } finally {
        client.release();
      }
    }
    // COPY cannot skip conflicts: copy into a per-transaction staging table, then insert what is new.
    await this.transaction(async (tx) => {
      const client = (tx as PostgresDatabase).client as pg.PoolClient;
      const staging = await stagingTable(tx, table);
      await copyRows(client, staging, columns, rows);
      await client.query(`INSERT INTO ${table} SELECT * FROM ${staging} ON CONFLICT DO NOTHING`);
    });
  }

  /**
   * The counter row is updated in the insert's transaction: it stays locked until the commit, so
   * appends from any number of processes commit in the order of their numbers.
   */
  appendSequenced(
    table: SequencedTable,
    columns: readonly string[],
    count: number,
    rowsFrom: (firstSeq: number) => SqlValue[][],
    options: { skipConflicts?: boolean } = {},
  ): Promise<number> {
    return this.writeSequenced(table, async (tx, reserve) => {
      const first = await reserve(count);
      await tx.bulkInsert(table, columns, rowsFrom(first), options);
      return first;
    });
  }

  writeSequenced<T>(
    table: SequencedTable,
    write: (tx: Database, reserve: (count: number) => Promise<number>, numberFrom: NumberFrom) => Promise<T>,
  ): Promise<T> {
    const advance = async (tx: Database, count: number) => {
      const rows = await tx.query<{ value: number }>(
        'UPDATE counters SET value = value + $2 WHERE name = $1 RETURNING value',
        [table, count],
      );
      if (!rows[0]) throw new Error(`unknown counter ${table}`);
      return rows[0].value - count + 1;
    };
    return this.transaction((tx) =>
      write(
        tx,
        (count) => advance(tx, count),
        async (insert) => {
          // Made in a staging table first and numbered from 1: the counter is locked (and other
          // writes to the table wait) only while they are copied, not while they are computed.
          const staging = await stagingTable(tx, table);
          await insert(1, staging);
          const count = await countFrom(tx, staging, 1);
          const first = await advance(tx, count);
          await tx.query(`UPDATE ${staging} SET seq = seq + $1`, [first - 1]);
          await tx.query(`INSERT INTO ${table} SELECT * FROM ${staging}`);
          // Emptied now for any later use in this transaction: a TRUNCATE of the session's own
          // table, not a DELETE (2M rows: 19 ms against 253 ms).
          await tx.query(`TRUNCATE ${staging}`);
          return { first, count };
        },
      ),
    );
  }

  async tryLock(name: string): Promise<StoreLock | undefined> {
    // The lock lives with the session: one client is kept out of the pool while it is held.
    const client = await this.pool.connect();
    try {
      const key = "hashtext(current_schema() || ':' || $1)";
      const { rows } = await client.query(`SELECT pg_try_advisory_lock(${key}) AS ok`, [name]);
      if (!rows[0]?.ok) {
        client.release();
        return undefined;
      }
      this.lockClients.add(client);
      return {
        release: async () => {
          if (!this.lockClients.delete(client)) return;
          await client.query(`SELECT pg_advisory_unlock(${key})`, [name]).catch(() => {});
          client.release();
        },
      };
    } catch (err) {
      client.release();
      throw err;
    }
  }

  async transaction<T>(fn: (tx: Database) => Promise<T>): Promise<T> {
    if (this.client !== this.pool) return fn(this);
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await fn(new PostgresDatabase(this.pool, client));
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  /**
   * A connection of its own for work that may leave state in its session (session settings,
   * advisory locks): `close` ends the connection instead of returning it to the pool.
   */
  async connectAlone(): Promise<{ client: pg.PoolClient; close(): void }> {
    const client = await this.pool.connect();
    let open = true;
    return {
      client,
      close: () => {
        if (open) client.release(true);
        open = false;
      },
    };
  }

  async close(): Promise<void> {
    if (this.client !== this.pool) return;
    // Locks still held end with their sessions.
    for (const client of this.lockClients) client.release(true);
    this.lockClients.clear();
    await this.pool.end();
  }
}

async function copyRows(
  client: pg.PoolClient,
  table: string,
  columns: readonly string[],
  rows: readonly SqlValue[][],
): Promise<void> {
  const stream = client.query(copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN`));
  // Encode in slices so a large batch never becomes one giant string.
  async function* lines() {
    let chunk = '';
    for (const row of rows) {
      chunk += `${row.map(copyText).join('\t')}\n`;
      if (chunk.length > 1 << 16) {
        yield chunk;
        chunk = '';
      }
    }
    if (chunk) yield chunk;
  }
  await pipeline(lines(), stream as Writable);
}

/** One cell in COPY's text format. */
function copyText(v: SqlValue): string {
  if (v === null || v === undefined) return '\\N';
  const s = v instanceof Date ? v.toISOString() : storableText(String(v));
  return s.replace(/[\\\n\r\t]/g, (c) =>
    c === '\\' ? '\\\\' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : '\\t',
  );
}

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A temporary table of `table`'s shape, emptied when each transaction ends; returns its name. */
async function stagingTable(tx: Database, table: string): Promise<string> {
  const staging = quoteIdent(`staging_${table}`);
  await tx.query(`CREATE TEMP TABLE IF NOT EXISTS ${staging} (LIKE ${table}) ON COMMIT DELETE ROWS`);
  return staging;
}
