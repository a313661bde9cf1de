import {
  type DuckDBConnection,
  DuckDBDataChunk,
  type DuckDBInstance,
  type DuckDBPreparedStatement,
  type DuckDBResultReader,
  DuckDBTimestampTZValue,
  DuckDBTypeId,
  type DuckDBValue,
} from '@duckdb/node-api';
import { isStorableTime, UserError } from '../core/index.js';
import {
  countFrom,
  type Database,
  type NumberFrom,
  type Row,
  type SequencedTable,
  type SqlValue,
  type StoreLock,
} from './database.js';
import { duckdbDialect } from './dialect.js';
import { storableText } from './storable-text.js';

/** What the store file is called inside the instance. */
const STORE_CATALOG = 'sluice';

/**
 * Rows per row group of the store file (DuckDB's default is 122,880). The checkpoint that fills
 * a row group compresses and writes the whole of it, and writers to the store wait meanwhile:
 * 580 ms for 122,880 events, 105 ms for 16,384. At 10,000 events/s that wait held up the
 * streaming pipeline's writes (streaming bench, reduced: group commit p99 0.41-0.86 s against
 * 1.3-1.8 s, event loop delay max 0.39-0.77 s against 0.84-1.13 s). Batch evaluation over 50
 * million events is no slower for the smaller groups (67.2 s against 68.9 s, same machine).
 */
const ROW_GROUP_SIZE = 16_384;

/** DuckDB behind the `Database` seam: a small pool of connections over one instance. */
export class DuckDBDatabase implements Database {
  readonly dialect = duckdbDialect;
  private readonly idle: DuckDBConnection[] = [];
  private readonly waiters: ((c: DuckDBConnection) => void)[] = [];
  private readonly all: DuckDBConnection[] = [];
  /** Connections outside the pool (`connectAlone`), closed by their users. */
  private readonly alone = new Set<DuckDBConnection>();
  private closed = false;
  private readonly sequences = new Map<SequencedTable, number>();
  private readonly appends = new Map<SequencedTable, Promise<void>>();

  private constructor(
    private readonly instance: DuckDBInstance,
    /** The attached store file's name in the instance (undefined: the instance's own memory). */
    private readonly catalog: string | undefined,
  ) {}

  /** Opens (creating if needed) the database file; `:memory:` for a throwaway one. */
  static async open(path: string, poolSize = 4): Promise<DuckDBDatabase> {
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const inMemory = path === ':memory:';
    // A file is attached to an instance in memory: only ATTACH sets the size of its row groups.
    const instance = await DuckDBInstance.create(':memory:', {
      // No extension may be downloaded at run time: JSON, Parquet and ICU are built in.
      autoinstall_known_extensions: 'false',
      // Sluice materializes a CTE to read it in several scans, each filtered its own way (segment
      // evaluation: the events once, then a scan per event name; the result, then a select per
      // segment). DuckDB would push the OR of all those filters into the CTE, where every row
      // tests each of them: minutes over 50 million events, for nothing the scans don't do.
      disabled_optimizers: 'cte_filter_pusher',
      // jemalloc's background threads give memory back instead of the thread that freed it. The
      // segments bench's first batch evaluation (1M profiles, 50M events) on a reopened store, four
      // interleaved pairs of runs: 58.7-71.2 s (median 59.1) against 60.1-82.0 s (median 69.9);
      // writing its 8.3M new members, 5.3-6.3 s against 6.3-10.1 s. The whole bench, three runs
      // each: first evaluation 53.2-67.3 s against 61.1-68.6 s, the 50M events generated in
      // 99.8-106.1 s against 115-131 s; streaming was unchanged.
      allocator_background_threads: 'true',
      // A checkpoint writes what the log holds while writers to the tables it writes wait; a smaller
      // log means shorter waits, more often. Streaming bench (10,000 events/s, 500 segments; 25,000
      // profiles, four interleaved pairs): p99 from handing an event over to its change in the
      // ledger 0.77-1.28 s against 1.54-2.34 s at DuckDB's default of 16 MB (2 MB: 1.19 s, one run);
      // at 100,000 profiles, 6.3 s against 15.1 s (one pair, the pipeline behind in both).
      checkpoint_threshold: '4MB',
      // Spills go next to the file, as when DuckDB opens the file itself (not to the working directory).
      ...(inMemory ? {} : { temp_directory: `${path}.tmp` }),
    });
    const db = new DuckDBDatabase(instance, inMemory ? undefined : STORE_CATALOG);
    try {
      if (!inMemory) {
        const c = await instance.connect();
        try {
          await c.run(
            `ATTACH '${path.replaceAll("'", "''")}' AS ${STORE_CATALOG} (ROW_GROUP_SIZE ${ROW_GROUP_SIZE})`,
          );
        } finally {
          c.closeSync();
        }
      }
      for (let i = 0; i < poolSize; i++) {
        const c = await db.connectTo();
        db.all.push(c);
        db.idle.push(c);
      }
    } catch (err) {
      for (const c of db.all) c.closeSync();
      instance.closeSync();
      // One process at a time may open the file: say what to do instead of DuckDB's lock error.
      if (!(err instanceof Error) || !/Could not set lock/i.test(err.message)) throw err;
      throw new UserError(
        'store_in_use',
        `the DuckDB store ${path} is open in another process (a running sluice serve?): ` +
          `use the management API while it runs, or PostgreSQL to share a store. ${err.message}`,
      );
    }
    return db;
  }

  /** A new connection to the store, reading times as UTC. */
  private async connectTo(): Promise<DuckDBConnection> {
    const c = await this.instance.connect();
    try {
      if (this.catalog) await c.run(`USE ${this.catalog}`);
      // Times without a zone are read as UTC whatever the machine's zone, as on PostgreSQL.
      await c.run("SET TimeZone = 'UTC'");
      return c;
    } catch (err) {
      c.closeSync();
      throw err;
    }
  }

  async query<T extends Row = Row>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return this.withConnection((c) => runQuery<T>(c, sql, params));
  }

  async bulkInsert(table: string, columns: readonly string[], rows: readonly SqlValue[][]): Promise<void> {
    // skipConflicts needs nothing here: DuckDB tables carry no unique index on bulk-written data.
    if (rows.length === 0) return;
    // A small write is one statement, committed by DuckDB on its own threads (the write to the
    // log, a checkpoint now and then): no BEGIN and COMMIT, each a round trip through the event
    // loop (see `insertText`).
    const text = asText(rows, columns.length);
    if (text !== undefined) {
      await this.withConnection((c) => insertText(c, table, columns, text));
      return;
    }
    // A large one's appender flush runs on the event loop: in a transaction, the commit does not,
    // but the flush still waits there while a checkpoint writes the table (asleep on DuckDB's
    // lock: 0.4-1.5 s at 10,000 events/s when the live writes of 71 to 700 rows went through the
    // appender, with DuckDB's 122,880-row groups; shorter with `ROW_GROUP_SIZE`).
    await this.withConnection((c) => inTransaction(c, () => appendWithAppender(c, table, columns, rows)));
  }

  /**
   * A DuckDB file has one writing process, so sequences live in memory, resumed from the table's
   * highest `seq` on first use; appends to a table run one after another, so they commit in the
   * order of their numbers.
   */
  appendSequenced(
    table: SequencedTable,
    columns: readonly string[],
    count: number,
    rowsFrom: (firstSeq: number) => SqlValue[][],
  ): Promise<number> {
    return this.afterAppends(table, async () => {
      const first = await this.nextSeq(table);
      await this.bulkInsert(table, columns, rowsFrom(first));
      // Numbers are taken only once the rows are in: a failed append leaves no gap.
      this.sequences.set(table, first + count);
      return first;
    });
  }

  writeSequenced<T>(
    table: SequencedTable,
    write: (tx: Database, reserve: (count: number) => Promise<number>, numberFrom: NumberFrom) => Promise<T>,
  ): Promise<T> {
    const next = this.afterAppends(table, async () => {
      let reserved: number | undefined;
      const take = async () => {
        if (reserved !== undefined) throw new Error('writeSequenced: number rows once per write');
        const first = await this.nextSeq(table);
        reserved = first;
        return first;
      };
      const result = await this.transaction((tx) =>
        write(
          tx,
          async (count) => {
            const first = await take();
            reserved = first + count;
            return first;
          },
          async (insert) => {
            // Sequenced writes run one at a time here anyway: the rows go straight to the table.
            const first = await take();
            await insert(first, table);
            const count = await countFrom(tx, table, first);
            reserved = first + count;
            return { first, count };
          },
        ),
      );
      if (reserved !== undefined) this.sequences.set(table, reserved);
      return result;
    });
    return next;
  }

  /** Runs `fn` after every append to `table` that started before it. */
  private afterAppends<T>(table: SequencedTable, fn: () => Promise<T>): Promise<T> {
    const next = (this.appends.get(table) ?? Promise.resolve()).then(fn);
    this.appends.set(
      table,
      next.then(
        () => {},
        () => {},
      ),
    );
    return next;
  }

  private async nextSeq(table: SequencedTable): Promise<number> {
    const known = this.sequences.get(table);
    if (known !== undefined) return known;
    // Past the numbers of deleted rows too (see `retireSeqs`).
    const rows = await this.query<{ max: number }>(
      `SELECT greatest(coalesce((SELECT max(seq) FROM ${table}), 0),
         coalesce((SELECT value FROM counters WHERE name = $1), 0)) AS max`,
      [table],
    );
    return (rows[0]?.max ?? 0) + 1;
  }

  /** One process holds a DuckDB file, so its locks are always free. */
  async tryLock(_name: string): Promise<StoreLock> {
    return { release: async () => {} };
  }

  transaction<T>(fn: (tx: Database) => Promise<T>): Promise<T> {
    return this.withConnection((c) => inTransaction(c, () => fn(new DuckDBConnectionDatabase(c, this))));
  }

  /** Reads a query's result chunk by chunk (constant memory), e.g. a Parquet file. */
  async *stream(sql: string, params: readonly SqlValue[] = []): AsyncGenerator<Row[]> {
    const c = await this.acquire();
    try {
      const result = await c.stream(sql, toDuckParams(params));
      for await (const rows of result.yieldRowObjectJs()) yield rows.map(normalizeRow);
    } finally {
      this.release(c);
    }
  }

  /**
   * A connection of its own, outside the pool, for work that changes its session (a search path,
   * a read-only transaction) or may be interrupted; `close` ends it, and whatever it left open.
   */
  async connectAlone(): Promise<{ connection: DuckDBConnection; close(): void }> {
    if (this.closed) throw new Error('the DuckDB store is closed');
    const connection = await this.connectTo();
    this.alone.add(connection);
    return {
      connection,
      close: () => {
        if (this.alone.delete(connection)) connection.closeSync();
      },
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Work on connections of their own is read-only (workspace queries): stopped, not waited for.
    for (const c of this.alone) c.interrupt();
    // Queries under way finish first (at most 30 s): closing under them would crash the process.
    for (let i = 0; (this.idle.length < this.all.length || this.alone.size > 0) && i < 600; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    for (const c of this.alone) c.closeSync();
    this.alone.clear();
    for (const c of this.all) c.closeSync();
    this.instance.closeSync();
  }

  private async withConnection<T>(fn: (c: DuckDBConnection) => Promise<T>): Promise<T> {
    const c = await this.acquire();
    try {
      return await fn(c);
    } finally {
      this.release(c);
    }
  }

  private acquire(): Promise<DuckDBConnection> {
    // A closed instance must not be touched: the native library would crash the process.
    if (this.closed) return Promise.reject(new Error('the DuckDB store is closed'));
    const c = this.idle.pop();
    if (c) return Promise.resolve(c);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private release(c: DuckDBConnection): void {
    const next = this.waiters.shift();
    if (next) next(c);
    else this.idle.push(c);
  }
}

/** One connection inside a transaction. */
class DuckDBConnectionDatabase implements Database {
  readonly dialect = duckdbDialect;
  constructor(
    private readonly c: DuckDBConnection,
    private readonly parent: DuckDBDatabase,
  ) {}
  query<T extends Row = Row>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return runQuery<T>(this.c, sql, params);
  }
  async bulkInsert(table: string, columns: readonly string[], rows: readonly SqlValue[][]): Promise<void> {
    // An appender costs about half a millisecond of the event loop even for no rows.
    if (rows.length === 0) return;
    await appendRows(this.c, table, columns, rows);
  }
  transaction<T>(fn: (tx: Database) => Promise<T>): Promise<T> {
    return fn(this);
  }
  tryLock(name: string): Promise<StoreLock | undefined> {
    return this.parent.tryLock(name);
  }
  appendSequenced(
    table: SequencedTable,
    columns: readonly string[],
    count: number,
    rowsFrom: (firstSeq: number) => SqlValue[][],
  ): Promise<number> {
    return this.parent.appendSequenced(table, columns, count, rowsFrom);
  }
  writeSequenced<T>(
    table: SequencedTable,
    write: (tx: Database, reserve: (count: number) => Promise<number>, numberFrom: NumberFrom) => Promise<T>,
  ): Promise<T> {
    return this.parent.writeSequenced(table, write);
  }
  async close(): Promise<void> {}
}

async function runQuery<T>(c: DuckDBConnection, sql: string, params: readonly SqlValue[]): Promise<T[]> {
  // Without parameters, possibly several statements (migrations): run as they are.
  const reader =
    params.length === 0 ? await c.runAndReadAll(sql) : await runPrepared(c, sql, toDuckParams(params));
  return reader.getRowObjectsJS().map(normalizeRow) as T[];
}

/** Runs a statement with parameters from those kept prepared on `c` (see `preparedOn`). */
async function runPrepared(
  c: DuckDBConnection,
  sql: string,
  values: DuckDBValue[],
): Promise<DuckDBResultReader> {
  let prepared: DuckDBPreparedStatement;
  try {
    prepared = await preparedOn(c, sql);
  } catch (err) {
    // Several statements, the last with the parameters: run one by one.
    if (!(err instanceof Error) || !/multiple statements/i.test(err.message)) throw err;
    return c.runAndReadAll(sql, values);
  }
  prepared.bind(values);
  return prepared.runAndReadAll();
}

/** Statements kept prepared on each connection, by their text (see `preparedOn`). */
const preparedStatements = new WeakMap<DuckDBConnection, Map<string, DuckDBPreparedStatement>>();
/** The most statements kept prepared on one connection; the least recently used goes first. */
const PREPARED_PER_CONNECTION = 64;

/**
 * A statement prepared on `c`, kept for the next run of the same text. Running a statement with
 * parameters otherwise takes three calls into DuckDB (split the text, prepare, execute), each
 * done on a thread of the pool and resumed on the event loop: under load, each waits its turn
 * behind whatever the event loop is doing. DuckDB binds a kept statement again by itself when the
 * tables it reads changed or the parameters' types differ.
 */
async function preparedOn(c: DuckDBConnection, sql: string): Promise<DuckDBPreparedStatement> {
  let kept = preparedStatements.get(c);
  if (kept === undefined) {
    kept = new Map();
    preparedStatements.set(c, kept);
  }
  const found = kept.get(sql);
  if (found !== undefined) {
    // Most recently used last.
    kept.delete(sql);
    kept.set(sql, found);
    return found;
  }
  const prepared = await c.prepare(sql);
  kept.set(sql, prepared);
  if (kept.size > PREPARED_PER_CONNECTION) {
    const [oldest, statement] = kept.entries().next().value!;
    kept.delete(oldest);
    statement.destroySync();
  }
  return prepared;
}

/** The text form of rows for `insertText`, for a small write whose every value has one. */
function asText(rows: readonly SqlValue[][], width: number): string | undefined {
  return rows.length <= TEXT_ROWS ? rowsAsText(rows, width) : undefined;
}

/**
 * Inserts rows given as text (`rowsAsText`) in one statement: the engine splits the text and casts
 * each cell to its column's type, on its own threads.
 */
async function insertText(
  c: DuckDBConnection,
  table: string,
  columns: readonly string[],
  text: string,
): Promise<void> {
  const cells = columns.map((_, i) => `NULLIF(f[${i + 1}], '${NULL_CELL}')`);
  const prepared = await preparedOn(
    c,
    `INSERT INTO ${table} (${columns.join(', ')})
     SELECT ${cells.join(', ')} FROM (SELECT string_split(line, chr(9)) AS f FROM unnest(string_split($1, chr(10))) AS r(line))`,
  );
  prepared.bind([text]);
  await prepared.run();
}

/** Runs `fn` on `c` in a transaction, rolled back if it fails. */
async function inTransaction<T>(c: DuckDBConnection, fn: () => Promise<T>): Promise<T> {
  await c.run('BEGIN TRANSACTION');
  try {
    const result = await fn();
    await c.run('COMMIT');
    return result;
  } catch (err) {
    await c.run('ROLLBACK');
    throw err;
  }
}

/** Inserts rows as text when they have that form (see `TEXT_ROWS`), else through the appender. */
async function appendRows(
  c: DuckDBConnection,
  table: string,
  columns: readonly string[],
  rows: readonly SqlValue[][],
): Promise<void> {
  const text = asText(rows, columns.length);
  if (text !== undefined) await insertText(c, table, columns, text);
  else await appendWithAppender(c, table, columns, rows);
}

/** Appends rows through DuckDB's appender, converting every cell on the event loop's thread. */
async function appendWithAppender(
  c: DuckDBConnection,
  table: string,
  columns: readonly string[],
  rows: readonly SqlValue[][],
): Promise<void> {
  const appender = await c.createAppender(table);
  try {
    if (appender.columnCount !== columns.length) {
      throw new Error(
        `bulkInsert into ${table}: table has ${appender.columnCount} columns, got ${columns.length}`,
      );
    }
    const types = columns.map((_, i) => appender.columnType(i));
    const converters = types.map((t) => cellConverter(t.typeId));
    // Whole data chunks cross into DuckDB at once: about 3x faster than appending cell by cell.
    for (let offset = 0; offset < rows.length; offset += CHUNK_ROWS) {
      const count = Math.min(CHUNK_ROWS, rows.length - offset);
      const chunkColumns = converters.map((convert, col) => {
        const values = new Array<DuckDBValue>(count);
        for (let r = 0; r < count; r++) {
          const v = rows[offset + r]![col];
          values[r] = v === null || v === undefined ? null : convert(v);
        }
        return values;
      });
      const chunk = DuckDBDataChunk.create(types, count);
      chunk.setColumns(chunkColumns);
      appender.appendDataChunk(chunk);
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
}

const CHUNK_ROWS = 2048;

/**
 * The largest write, in rows, made as text instead of through the appender. The appender converts and writes
 * every cell on the event loop's thread, and its flush waits there while a checkpoint holds the
 * table: at 10,000 events/s it took 14% of the event loop (streaming bench, reduced). As text,
 * the event loop only joins the cells. Larger writes (imports) keep the appender, which costs
 * less in all.
 */
const TEXT_ROWS = 5_000;
/** A NULL cell in the text form (COPY's marker); a text equal to it is written by the appender. */
const NULL_CELL = '\\N';

/**
 * The rows as one text, a line per row and a tab between cells, in the forms DuckDB casts from
 * text to each column's type (ISO times, numbers as JavaScript prints them, `true`/`false`).
 * Undefined when a value has no such form: a text holding a tab or a line break, or equal to
 * `NULL_CELL`; -0, an infinity or NaN; a time outside the years 1 to 9999.
 */
function rowsAsText(rows: readonly SqlValue[][], width: number): string | undefined {
  const lines = new Array<string>(rows.length);
  const cells = new Array<string>(width);
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!;
    for (let i = 0; i < width; i++) {
      const v = row[i];
      if (v === null || v === undefined) cells[i] = NULL_CELL;
      else if (typeof v === 'string') {
        const text = storableText(v);
        if (text === NULL_CELL || text.includes('\t') || text.includes('\n')) return undefined;
        cells[i] = text;
      } else if (typeof v === 'number') {
        // -0 prints as 0.
        if (!Number.isFinite(v) || Object.is(v, -0)) return undefined;
        cells[i] = String(v);
      } else if (typeof v === 'bigint') cells[i] = String(v);
      else if (typeof v === 'boolean') cells[i] = v ? 'true' : 'false';
      else if (v instanceof Date) {
        // Past year 9999 the ISO form starts with `+`, which DuckDB does not read.
        if (!isStorableTime(v.getTime())) return undefined;
        cells[i] = v.toISOString();
      } else return undefined;
    }
    lines[r] = cells.join('\t');
  }
  return lines.join('\n');
}

function cellConverter(typeId: DuckDBTypeId): (v: Exclude<SqlValue, null>) => DuckDBValue {
  switch (typeId) {
    case DuckDBTypeId.BIGINT:
      return (v) => BigInt(v as number);
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.DOUBLE:
      return (v) => Number(v);
    case DuckDBTypeId.BOOLEAN:
      return (v) => Boolean(v);
    case DuckDBTypeId.TIMESTAMP_TZ:
      return (v) => new DuckDBTimestampTZValue(BigInt(toMillis(v)) * 1000n);
    default:
      return (v) => (v instanceof Date ? v.toISOString() : storableText(String(v)));
  }
}

function toMillis(v: Exclude<SqlValue, null>): number {
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'string') return Date.parse(v);
  return Number(v);
}

function toDuckParams(params: readonly SqlValue[]): DuckDBValue[] {
  return params.map((p) => {
    if (p instanceof Date) return new DuckDBTimestampTZValue(BigInt(p.getTime()) * 1000n);
    if (typeof p === 'number' && Number.isInteger(p)) return BigInt(p);
    return p;
  });
}

function normalizeRow(row: Record<string, unknown>): Row {
  for (const key in row) {
    const v = row[key];
    if (typeof v === 'bigint') row[key] = Number(v);
  }
  return row;
}
