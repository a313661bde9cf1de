import { UserError } from '../core/index.js';

/** One value of a workspace query's result, as files and the outbox carry it. */
export type Cell = string | number | boolean | null;

export interface ReadOptions {
  /** Rows to read at most; undefined reads them all. */
  limit?: number | undefined;
  /** How long the engine may work on the query before it is stopped (time spent consuming rows not counted). */
  timeoutMs: number;
}

/**
 * Read-only SQL over the workspace views (`workspace-views.ts`), for orchestrations. Whatever a
 * query says, it reads those views and nothing else, and changes nothing; each engine's
 * implementation says how it makes sure. Every problem with a query, the engine's own messages
 * included, is a UserError whose issue names `query`.
 *
 * Values come out alike on both engines, as PostgreSQL's `to_json` writes them: times in ISO 8601
 * (`2026-03-01T09:00:00+00:00`), dates as `2026-03-01`, JSON, lists and structures as JSON text,
 * bytes as `\x...` hex, non-finite numbers as `NaN`, `Infinity`.
 */
export interface WorkspaceQueries {
  /** The columns the query returns, in order, without reading its rows. */
  describe(sql: string, timeoutMs: number): Promise<string[]>;
  /**
   * Runs the query and hands its columns and its rows (a page at a time) to `consume`; the query
   * holds its connection until `consume` returns.
   */
  read<T>(
    sql: string,
    options: ReadOptions,
    consume: (columns: string[], pages: AsyncIterable<Cell[][]>) => Promise<T>,
  ): Promise<T>;
}

/** A problem with a query, pointing at the `query` field. */
export function queryError(code: string, message: string): UserError {
  return new UserError(code, message, [{ code, path: ['query'], message }]);
}

/** Refused because it could write, or read beyond the workspace views. */
export function notReadOnly(reason: string): UserError {
  return queryError(
    'query_not_read_only',
    `only one read-only SELECT over the workspace views is allowed: ${reason}`,
  );
}

export function queryTimedOut(timeoutMs: number): UserError {
  return queryError('query_timeout', `the query ran longer than ${timeoutMs / 1000} s and was stopped`);
}

/** The statement without the trailing semicolons people often type (one statement is allowed anyway). */
export function withoutTrailingSemicolons(sql: string): string {
  return sql.replace(/(\s*;)+\s*$/, '').trim();
}

const QUERY_KEYWORDS = new Set(['SELECT', 'WITH', 'VALUES', 'TABLE', 'FROM']);

/**
 * What a statement that the engine would not take as a query says it is (`DELETE statements
 * are not queries`), from its first keyword past comments and parentheses. For the message only: the
 * engine decided already.
 */
export function notAQuery(sql: string): string | undefined {
  const rest = sql.replace(/^(\s+|--[^\n]*(\n|$)|\/\*[\s\S]*?\*\/|\()*/, '');
  const keyword = /^[A-Za-z]+/.exec(rest)?.[0]?.toUpperCase();
  return keyword && !QUERY_KEYWORDS.has(keyword) ? `${keyword} statements are not queries` : undefined;
}

/** Refuses results that no file could carry: no columns, or two columns of one name. */
export function checkColumns(columns: readonly string[]): void {
  if (columns.length === 0) throw queryError('invalid_query', 'the query returns no columns');
  const seen = new Set<string>();
  for (const column of columns) {
    if (seen.has(column)) {
      throw queryError(
        'duplicate_column',
        `the query returns two columns named ${JSON.stringify(column)}: give each its own name (AS ...)`,
      );
    }
    seen.add(column);
  }
}

/** Text of a time as PostgreSQL's `to_json` writes it: `2026-03-01T09:00:00.5+00:00` (UTC), without the zone for local times. */
export function isoTime(at: Date, withZone: boolean): string {
  // `2026-03-01T09:00:00.500Z`: the milliseconds lose their trailing zeros, and the point with them.
  const local = at
    .toISOString()
    .slice(0, -1)
    .replace(/\.?0+$/, '');
  return withZone ? `${local}+00:00` : local;
}

/** A nested value (list, structure, map, JSON document) as JSON text; big integers as numbers. */
export function jsonText(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'bigint') return Number(v);
    if (v instanceof Uint8Array) return hexBytes(v);
    return v;
  });
}

/** Bytes as PostgreSQL writes `bytea`: `\x` and hex digits. */
export function hexBytes(bytes: Uint8Array): string {
  return `\\x${Buffer.from(bytes).toString('hex')}`;
}

/** A number as a cell: JSON has no NaN or Infinity, so they become text, as in PostgreSQL's JSON. */
export function numberCell(n: number): Cell {
  return Number.isFinite(n) ? n : String(n);
}
