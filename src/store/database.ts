import type { Dialect } from './dialect.js';

/** A value a statement parameter or a bulk-inserted cell may hold. */
export type SqlValue = string | number | bigint | boolean | Date | null;

export type Row = Record<string, unknown>;

export interface StoreLock {
  release(): Promise<void>;
}

/**
 * Runs `insert`, which adds rows numbered `first`, `first + 1`, ... to the table named `into` (the
 * sequenced table itself, or one of its shape where the engine stages them); returns the first
 * number the rows took and how many there were.
 */
export type NumberFrom = (
  insert: (first: number, into: string) => Promise<unknown>,
) => Promise<{ first: number; count: number }>;

/** The tables whose rows are numbered by a sequence (`seq`). */
export type SequencedTable = 'events' | 'profile_records' | 'rejects' | 'segment_changes' | 'deliveries';

/**
 * The engine seam: everything above it writes SQL once (with `$1` placeholders, which both engines
 * accept) and asks `dialect` where the engines differ.
 */
export interface Database {
  readonly dialect: Dialect;
  /** Runs a statement and returns its rows, with BIGINT as number, timestamps as Date. */
  query<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  /**
   * Appends rows through the engine's bulk path (DuckDB appender, PostgreSQL COPY). `columns` lists
   * every column of the table in order. With `skipConflicts`, rows that would violate a unique index
   * are dropped instead of failing the batch (only PostgreSQL has such indexes: a DuckDB file has one
   * writing process, which dedupes before it writes).
   */
  bulkInsert(
    table: string,
    columns: readonly string[],
    rows: readonly SqlValue[][],
    options?: { skipConflicts?: boolean },
  ): Promise<void>;
  /**
   * Appends `count` rows numbered by the sequence named after the table (its `seq` column) and
   * returns the first number. Appends to one table commit in the order of their numbers, so a
   * reader that has seen `seq` n has seen every row below it (identity resolution relies on it).
   */
  appendSequenced(
    table: SequencedTable,
    columns: readonly string[],
    count: number,
    rowsFrom: (firstSeq: number) => SqlValue[][],
    options?: { skipConflicts?: boolean },
  ): Promise<number>;
  /**
   * Runs `write` in one transaction that may number rows of `table`: `reserve(count)` returns the
   * first of `count` numbers, and the transaction commits in the order of its numbers like
   * `appendSequenced` (for rows made in SQL, e.g. `INSERT INTO t SELECT $1 + row_number() ...`).
   * `numberFrom(insert)` is for rows whose count is known only once they are made (see
   * `NumberFrom`). A write uses one of the two, once.
   */
  writeSequenced<T>(
    table: SequencedTable,
    write: (tx: Database, reserve: (count: number) => Promise<number>, numberFrom: NumberFrom) => Promise<T>,
  ): Promise<T>;
  /**
   * Takes the named lock for this store if no other process holds it, and keeps it until released
   * or until the process ends (PostgreSQL: a session advisory lock per schema; DuckDB: its file
   * has one process anyway). `undefined` when another process has it.
   */
  tryLock(name: string): Promise<StoreLock | undefined>;
  /** Runs `fn` in one transaction on one connection. */
  transaction<T>(fn: (tx: Database) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/**
 * Called before rows of `table` are deleted: their numbers are never handed out again, though
 * DuckDB resumes a sequence from the table's highest seq when it opens (the counter keeps it).
 * Other tables refer to rows by seq (the ledger to the events that caused its changes, identity's
 * cursors), and must not come to name a later row.
 */
export async function retireSeqs(db: Database, table: SequencedTable): Promise<void> {
  await db.query(
    `UPDATE counters SET value = greatest(value, (SELECT coalesce(max(seq), 0) FROM ${table})) WHERE name = $1`,
    [table],
  );
}

/** How many rows of `table` are numbered `first` or above (in `tx`, rows it has just added). */
export async function countFrom(tx: Database, table: string, first: number): Promise<number> {
  const [row] = await tx.query<{ n: number }>(`SELECT count(*) AS n FROM ${table} WHERE seq >= $1`, [first]);
  return Number(row?.n ?? 0);
}
