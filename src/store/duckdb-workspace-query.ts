import { type DuckDBConnection, DuckDBTypeId, StatementType } from '@duckdb/node-api';
import { duckdbDialect } from './dialect.js';
import type { DuckDBDatabase } from './duckdb-database.js';
import { type QueryScope, refusalOf } from './duckdb-query-check.js';
import {
  type Cell,
  checkColumns,
  hexBytes,
  isoTime,
  jsonText,
  notAQuery,
  notReadOnly,
  numberCell,
  queryError,
  queryTimedOut,
  type ReadOptions,
  type WorkspaceQueries,
  withoutTrailingSemicolons,
} from './workspace-query.js';
import { WORKSPACE_VIEWS } from './workspace-views.js';

/** The schema of the workspace views in the DuckDB file. */
const SCHEMA = 'workspace';

/**
 * Workspace queries on DuckDB, which has no roles to take privileges away with. What holds:
 *
 * - Nothing is written: the query runs in a `READ ONLY` transaction on a connection of its own
 *   (closed afterwards, so no setting it might change outlives it), and must be exactly one
 *   statement (DuckDB's `extractStatements`) whose prepared type is `SELECT`.
 * - Nothing but the views is read: DuckDB's own parser reads the query (`json_serialize_sql`)
 *   and every FROM item in the tree is checked (see `refusalOf`); the search path puts the views
 *   before the stored tables of the same names (`events`, `identifiers`).
 *
 * The second rests on that check, not on a privilege: a DuckDB scalar function that read a
 * relation named in a string would get past it (none does in DuckDB's built-in functions; the
 * table functions that do, `query`, `query_table`, `read_*`, are refused).
 */
export class DuckDBWorkspaceQueries implements WorkspaceQueries {
  private views: Promise<void> | undefined;

  constructor(private readonly db: DuckDBDatabase) {}

  describe(sql: string, timeoutMs: number): Promise<string[]> {
    return this.prepared(sql, timeoutMs, async (_session, columns) => columns);
  }

  read<T>(
    sql: string,
    options: ReadOptions,
    consume: (columns: string[], pages: AsyncIterable<Cell[][]>) => Promise<T>,
  ): Promise<T> {
    return this.prepared(sql, options.timeoutMs, async (session, columns, statement) => {
      // Starting the stream runs the query (a sort, say, to the end): not for the columns alone.
      if (options.limit === 0) return consume(columns, (async function* () {})());
      const result = await session.timed(statement.stream());
      const types = result.columnTypes().map((t) => t.typeId);
      const chunks = result.yieldRowsJs()[Symbol.asyncIterator]();
      async function* pages(): AsyncGenerator<Cell[][]> {
        let left = options.limit ?? Number.POSITIVE_INFINITY;
        while (left > 0) {
          const next = await session.timed(chunks.next());
          if (next.done) return;
          const rows = next.value.length > left ? next.value.slice(0, left) : next.value;
          left -= rows.length;
          yield rows.map((row) => row.map((value, i) => cellOf(value, types[i]!)));
        }
      }
      return consume(columns, pages());
    });
  }

  /** Checks the query, prepares it in a read-only transaction on a connection of its own, and hands it to `fn`. */
  private async prepared<T>(
    sql: string,
    timeoutMs: number,
    fn: (
      session: Session,
      columns: string[],
      statement: Awaited<ReturnType<DuckDBConnection['prepare']>>,
    ) => Promise<T>,
  ): Promise<T> {
    this.views ??= this.createViews().catch((err: unknown) => {
      this.views = undefined;
      throw err;
    });
    await this.views;
    const text = withoutTrailingSemicolons(sql);
    const { connection, close } = await this.db.connectAlone();
    const session = new Session(connection, timeoutMs);
    try {
      await connection.run(`SET search_path = '${SCHEMA}'`);
      await connection.run('BEGIN TRANSACTION READ ONLY');
      const statements = await session.timed(connection.extractStatements(text));
      if (statements.count !== 1) throw notReadOnly(`found ${statements.count} statements, not one`);
      await this.check(session, connection, text);
      const statement = await session.timed(connection.prepare(text));
      if (statement.statementType !== StatementType.SELECT) {
        throw notReadOnly(`found a ${StatementType[statement.statementType]} statement`);
      }
      const columns = Array.from({ length: statement.columnCount }, (_, i) => statement.columnName(i));
      checkColumns(columns);
      return await fn(session, columns, statement);
    } finally {
      close();
    }
  }

  /** Refuses, by DuckDB's parse tree, a query that is not a SELECT or names anything but the views. */
  private async check(session: Session, connection: DuckDBConnection, text: string): Promise<void> {
    const parsed = await session.timed(
      connection.runAndReadAll('SELECT json_serialize_sql($1::VARCHAR) AS tree', [text]),
    );
    const tree = JSON.parse(String(parsed.getRowObjectsJS()[0]!.tree)) as {
      error: boolean;
      error_type?: string;
      error_message?: string;
      statements?: unknown[];
    };
    if (tree.error) {
      if (tree.error_type === 'not implemented') {
        throw notReadOnly(notAQuery(text) ?? tree.error_message ?? 'not a SELECT');
      }
      throw queryError('invalid_query', tree.error_message ?? 'the query does not parse');
    }
    if (tree.statements?.length !== 1) throw notReadOnly('found more than one statement');
    const refusal = refusalOf(tree.statements, await this.scope(connection));
    if (refusal) throw notReadOnly(refusal);
  }

  private async scope(connection: DuckDBConnection): Promise<QueryScope> {
    const names = await connection.runAndReadAll(
      `SELECT lower(table_name) AS name FROM duckdb_tables()
       UNION SELECT lower(view_name) FROM duckdb_views() WHERE schema_name <> '${SCHEMA}'`,
    );
    const catalog = await connection.runAndReadAll('SELECT lower(current_database()) AS name');
    return {
      views: new Set(WORKSPACE_VIEWS.map((v) => v.name)),
      schema: SCHEMA,
      catalog: String(catalog.getRowObjectsJS()[0]!.name),
      otherRelations: new Set(names.getRowObjectsJS().map((r) => String(r.name))),
    };
  }

  /** (Re)creates the views once per process, from the one list in `workspace-views.ts`. */
  private async createViews(): Promise<void> {
    const table = (name: string) => `main.${name}`;
    await this.db.transaction(async (tx) => {
      await tx.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
      await tx.query(`CREATE SCHEMA ${SCHEMA}`);
      for (const view of WORKSPACE_VIEWS) {
        await tx.query(`CREATE VIEW ${SCHEMA}.${view.name} AS ${view.sql(duckdbDialect, table)}`);
      }
    });
  }
}

/** A query's connection and its time budget: only the time DuckDB spends counts, not the consumer's. */
class Session {
  private left: number;
  private timedOut = false;

  constructor(
    private readonly connection: DuckDBConnection,
    private readonly timeoutMs: number,
  ) {
    this.left = timeoutMs;
  }

  /**
   * Awaits DuckDB's work on the query, interrupting it when the budget runs out. Its errors (the
   * query's syntax, names, types, values) become UserErrors naming `query`, with DuckDB's message.
   */
  async timed<T>(work: Promise<T>): Promise<T> {
    const started = Date.now();
    const timer = setTimeout(
      () => {
        this.timedOut = true;
        this.connection.interrupt();
      },
      Math.max(0, this.left),
    );
    try {
      return await work;
    } catch (err) {
      if (this.timedOut) throw queryTimedOut(this.timeoutMs);
      throw err instanceof Error ? queryError('invalid_query', err.message) : err;
    } finally {
      clearTimeout(timer);
      this.left -= Date.now() - started;
    }
  }
}

/** One DuckDB value as the cell PostgreSQL's `to_json` would make of the same value (see `WorkspaceQueries`). */
function cellOf(value: unknown, type: DuckDBTypeId): Cell {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) {
    if (type === DuckDBTypeId.DATE) return value.toISOString().slice(0, 10);
    return isoTime(value, type === DuckDBTypeId.TIMESTAMP_TZ);
  }
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'number') return numberCell(value);
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (value instanceof Uint8Array) return hexBytes(value);
  return jsonText(value);
}
