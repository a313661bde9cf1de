import { createHash } from 'node:crypto';
import type pg from 'pg';
import { UserError } from '../core/index.js';
import type { Database } from './database.js';
import { postgresDialect } from './dialect.js';
import { type PostgresDatabase, quoteIdent } from './postgres-database.js';
import {
  type Cell,
  checkColumns,
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

/** The schema of the workspace views and the role that may only read them, for one store. */
export function postgresWorkspaceNames(database: string, schema: string): { views: string; role: string } {
  const hash = createHash('sha256').update(`${database}.${schema}`).digest('hex').slice(0, 12);
  const views = `${schema}_workspace`;
  // Roles belong to the whole server: the name must tell apart stores in other databases too.
  return { views: views.length <= 63 ? views : `sluice_workspace_${hash}`, role: `sluice_reader_${hash}` };
}

interface Sandbox {
  /** The function that runs a query as the reader role, qualified. */
  fn: string;
}

const FUNCTION_NAME = 'sluice_workspace_query';
const CURSOR = 'sluice_workspace_rows';
const PAGE_ROWS = 2000;

/** SQLSTATE classes (and codes) that are the query's fault: syntax, names, types, values, limits. */
const QUERY_FAULTS = new Set(['21', '22', '2F', '38', '39', '42', '0A', '54']);
/** Privilege and read-only refusals. */
const REFUSALS = new Set(['42501', '25006']);

/**
 * Workspace queries on PostgreSQL, where privileges do the work:
 *
 * - The views live in a schema of their own, owned by the store's user, so they read the stored
 *   tables with its rights. A role that may do nothing but SELECT those views runs the query:
 *   it has no privilege on the store's schema, so `api_keys` or `destinations` cannot be read
 *   however the query names them, nor any function reserved to the store's user be called.
 * - The query runs inside a `SECURITY DEFINER` function owned by that role. A plain `SET ROLE`
 *   would not hold: the session's user may go back with `set_config('role', ...)` in the middle
 *   of a SELECT, whereas PostgreSQL refuses to change the role inside such a function.
 * - The transaction is `READ ONLY` with a `statement_timeout`; the query is one query
 *   expression inside a subquery (`SELECT ... FROM (<query>) AS r`), so neither a second
 *   statement nor a COPY, SET or data-modifying WITH can be made of it; and its connection is
 *   closed afterwards, so nothing it left in the session (an advisory lock, a setting) outlives it.
 *
 * Creating the role takes CREATEROLE (or an administrator creating it once; the error says how).
 * Without it orchestrations are refused: falling back to the store's own rights would let a
 * query read every table, and a superuser's run programs on the server.
 */
export class PostgresWorkspaceQueries implements WorkspaceQueries {
  private sandbox: Promise<Sandbox> | undefined;

  constructor(private readonly db: PostgresDatabase) {}

  describe(sql: string, timeoutMs: number): Promise<string[]> {
    return this.read(sql, { limit: 0, timeoutMs }, async (columns) => columns);
  }

  async read<T>(
    sql: string,
    options: ReadOptions,
    consume: (columns: string[], pages: AsyncIterable<Cell[][]>) => Promise<T>,
  ): Promise<T> {
    this.sandbox ??= this.setUp().catch((err: unknown) => {
      this.sandbox = undefined;
      throw err;
    });
    const { fn } = await this.sandbox;
    const { client, close } = await this.db.connectAlone();
    const query = withoutTrailingSemicolons(sql);
    const run = (text: string, params: unknown[] = []) =>
      client.query<{ r: unknown }>(text, params).catch((err: unknown) => {
        throw userError(err, query, options.timeoutMs);
      });
    try {
      await client.query('BEGIN READ ONLY');
      await client.query(`SET LOCAL statement_timeout = ${Math.max(1, Math.ceil(options.timeoutMs))}`);
      await run(`DECLARE ${CURSOR} NO SCROLL CURSOR FOR SELECT r FROM ${fn}($1, $2) AS r`, [
        query,
        options.limit ?? null,
      ]);
      // The function's first row names the columns (even when there are no rows).
      const header = await run(`FETCH 1 FROM ${CURSOR}`);
      const columns = header.rows[0]!.r as string[];
      checkColumns(columns);
      async function* pages(): AsyncGenerator<Cell[][]> {
        for (;;) {
          const page = await run(`FETCH ${PAGE_ROWS} FROM ${CURSOR}`);
          if (page.rows.length === 0) return;
          yield page.rows.map(({ r }) => columns.map((c) => cellOf((r as Record<string, unknown>)[c])));
        }
      }
      return await consume(columns, pages());
    } finally {
      await client.query('ROLLBACK').catch(() => {});
      close();
    }
  }

  /**
   * Makes the views, the reader role and the function, once per process, and again only when
   * what they are made of changed (a fingerprint in the schema's comment says).
   */
  private setUp(): Promise<Sandbox> {
    return this.db.transaction(async (tx) => {
      const who = (
        await tx.query<{ schema: string; database: string; user: string; superuser: boolean }>(
          `SELECT current_schema() AS schema, current_database() AS database, current_user AS "user",
             (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS superuser`,
        )
      )[0]!;
      const names = postgresWorkspaceNames(who.database, who.schema);
      const fn = `${quoteIdent(who.schema)}.${FUNCTION_NAME}`;
      const views = quoteIdent(names.views);
      const role = quoteIdent(names.role);
      const table = (name: string) => `${quoteIdent(who.schema)}.${name}`;
      const viewStatements = WORKSPACE_VIEWS.map(
        (v) => `CREATE VIEW ${views}.${v.name} AS ${v.sql(postgresDialect, table)}`,
      );
      const fnStatement = functionStatement(fn, views);
      const fingerprint = `sluice workspace views ${createHash('sha256')
        .update(JSON.stringify([names, viewStatements, fnStatement]))
        .digest('hex')}`;

      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`sluice workspace ${who.schema}`]);
      const current = await tx.query<{ comment: string | null }>(
        `SELECT obj_description(oid, 'pg_namespace') AS comment FROM pg_namespace WHERE nspname = $1`,
        [names.views],
      );
      if (current[0]?.comment === fingerprint) return { fn };
      try {
        if ((await tx.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [names.role])).length === 0) {
          await tx.query(`CREATE ROLE ${role} NOLOGIN`);
        }
        // Only a member may hand its role the function (a superuser may anyway).
        const member = await tx.query<{ ok: boolean }>(
          `SELECT pg_has_role(current_user, $1, 'MEMBER') AS ok`,
          [names.role],
        );
        if (!who.superuser && !member[0]?.ok) await tx.query(`GRANT ${role} TO CURRENT_USER`);
        // Asked first: CREATE SCHEMA IF NOT EXISTS needs the CREATE privilege even when it exists.
        if ((await tx.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [names.views])).length === 0) {
          await tx.query(`CREATE SCHEMA ${views}`);
        }
        await dropViews(tx, names.views);
        for (const statement of viewStatements) await tx.query(statement);
        await tx.query(`REVOKE ALL ON SCHEMA ${views} FROM PUBLIC`);
        await tx.query(`GRANT USAGE ON SCHEMA ${views} TO ${role}`);
        await tx.query(`GRANT SELECT ON ALL TABLES IN SCHEMA ${views} TO ${role}`);
        await tx.query(`DROP FUNCTION IF EXISTS ${fn}(text, bigint)`);
        await tx.query(fnStatement);
        // A new owner must be allowed to create in the function's schema: only for as long as it takes.
        await tx.query(`GRANT CREATE ON SCHEMA ${quoteIdent(who.schema)} TO ${role}`);
        await tx.query(`ALTER FUNCTION ${fn}(text, bigint) OWNER TO ${role}`);
        await tx.query(`REVOKE CREATE ON SCHEMA ${quoteIdent(who.schema)} FROM ${role}`);
        await tx.query(`REVOKE ALL ON FUNCTION ${fn}(text, bigint) FROM PUBLIC`);
        await tx.query(`GRANT EXECUTE ON FUNCTION ${fn}(text, bigint) TO CURRENT_USER`);
        await tx.query(`COMMENT ON SCHEMA ${views} IS '${fingerprint}'`);
      } catch (err) {
        if ((err as { code?: string }).code !== '42501') throw err;
        throw new UserError(
          'query_sandbox_unavailable',
          `orchestration queries on PostgreSQL run as a role that may only read the workspace views ` +
            `(schema ${names.views}), and ${who.user} may not set that up: ${(err as Error).message}. ` +
            `Grant ${who.user} CREATEROLE, or have an administrator run once: CREATE ROLE ${role} NOLOGIN; ` +
            `GRANT ${role} TO ${quoteIdent(who.user)}; CREATE SCHEMA ${views} AUTHORIZATION ${quoteIdent(who.user)};`,
        );
      }
      return { fn };
    });
  }
}

/**
 * The function that runs a query as its owner, the reader role. Its first row is the list of
 * column names, read from one row of NULLs (a LEFT JOIN to the query cut to no rows), so an
 * empty result has its columns too; then one JSON object per row, in the query's order.
 */
function functionStatement(fn: string, views: string): string {
  const header =
    `SELECT COALESCE(json_agg(k.key ORDER BY k.n), ''[]'') FROM (SELECT q.* FROM (SELECT 1) AS one ` +
    `LEFT JOIN (SELECT * FROM (' || query || E'\\n) AS x LIMIT 0) AS q ON true) AS header, ` +
    `json_object_keys(to_json(header.*)) WITH ORDINALITY AS k(key, n)`;
  return `CREATE FUNCTION ${fn}(query text, max_rows bigint) RETURNS SETOF json
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ${views}, pg_temp AS $fn$
BEGIN
  RETURN QUERY EXECUTE '${header}';
  RETURN QUERY EXECUTE 'SELECT to_json(r.*) FROM (' || query || E'\\n) AS r LIMIT $1' USING max_rows;
END
$fn$`;
}

/** Drops the views in the workspace schema (the schema stays: an administrator may have made it). */
async function dropViews(tx: Database, schema: string): Promise<void> {
  const existing = await tx.query<{ name: string }>(
    'SELECT viewname AS name FROM pg_views WHERE schemaname = $1',
    [schema],
  );
  for (const { name } of existing) {
    await tx.query(`DROP VIEW IF EXISTS ${quoteIdent(schema)}.${quoteIdent(name)} CASCADE`);
  }
}

/** PostgreSQL's errors about the query as UserErrors naming `query`, with its own message. */
function userError(err: unknown, query: string, timeoutMs: number): unknown {
  const code = (err as pg.DatabaseError).code;
  if (typeof code !== 'string') return err;
  if (code === '57014') return queryTimedOut(timeoutMs);
  // Inside `SELECT ... FROM (<query>)` an INSERT, COPY or SET is a syntax error: say what it was.
  const other = code === '42601' ? notAQuery(query) : undefined;
  if (other) return notReadOnly(other);
  if (REFUSALS.has(code)) return notReadOnly((err as Error).message);
  if (code === '42P01') {
    const views = WORKSPACE_VIEWS.map((v) => v.name).join(', ');
    return queryError('invalid_query', `${(err as Error).message} (the workspace views: ${views})`);
  }
  if (QUERY_FAULTS.has(code.slice(0, 2))) return queryError('invalid_query', (err as Error).message);
  return err;
}

function cellOf(value: unknown): Cell {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return numberCell(value);
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  return jsonText(value);
}
