/** What differs between the engines' SQL. Everything else is written once. */
export interface Dialect {
  readonly name: 'duckdb' | 'postgres';
  /** Column type for JSON documents. */
  readonly jsonType: string;
  /** Column type for bytes. */
  readonly blobType: string;
  /**
   * A JSON member as text: `jsonText('context', ['traits', 'email'])` →
   * `json_extract_string(context, '$.traits.email')` (DuckDB), `context #>> '{traits,email}'` (PostgreSQL).
   */
  jsonText(column: string, path: readonly string[]): string;
  /** The text of a JSON scalar stored as JSON text: `json_extract_string(x, '$')` (DuckDB), `(x::jsonb #>> '{}')` (PostgreSQL). */
  jsonScalar(expr: string): string;
  /** Text to a number, NULL when it is not one (see `NUMBER_PATTERN`). */
  toNumber(expr: string): string;
  /** The most frequent value of a group: `mode(x)` (DuckDB), `mode() WITHIN GROUP (ORDER BY x)` (PostgreSQL). */
  mode(expr: string): string;
}

/**
 * The text read as a number, alike on both engines and in streaming evaluation: digits with an
 * optional sign, fraction and exponent of at most two digits (so it never overflows a double).
 */
export const NUMBER_PATTERN = '\\s*-?[0-9]+(\\.[0-9]*)?([eE][-+]?[0-9]{1,2})?\\s*';

const memberName = (key: string): string => {
  if (!/^[A-Za-z_][\w]*$/.test(key)) throw new Error(`unsupported JSON member name ${JSON.stringify(key)}`);
  return key;
};

export const duckdbDialect: Dialect = {
  name: 'duckdb',
  jsonType: 'JSON',
  blobType: 'BLOB',
  jsonText: (column, path) => `json_extract_string(${column}, '$.${path.map(memberName).join('.')}')`,
  jsonScalar: (expr) => `json_extract_string(${expr}, '$')`,
  toNumber: (expr) =>
    `(CASE WHEN regexp_full_match(${expr}, '${NUMBER_PATTERN}') THEN TRY_CAST(${expr} AS DOUBLE) END)`,
  mode: (expr) => `mode(${expr})`,
};

export const postgresDialect: Dialect = {
  name: 'postgres',
  jsonType: 'JSONB',
  blobType: 'BYTEA',
  jsonText: (column, path) => `${column} #>> '{${path.map(memberName).join(',')}}'`,
  jsonScalar: (expr) => `((${expr})::jsonb #>> '{}')`,
  toNumber: (expr) => `(CASE WHEN ${expr} ~ '^${NUMBER_PATTERN}$' THEN (${expr})::double precision END)`,
  mode: (expr) => `mode() WITHIN GROUP (ORDER BY ${expr})`,
};

/** JSON columns come back as text from DuckDB and as objects from PostgreSQL. */
export function readJson(value: unknown): Record<string, unknown> {
  if (value === null || value === undefined) return {};
  return typeof value === 'string' ? JSON.parse(value) : (value as Record<string, unknown>);
}

/** A JSON array column: text from DuckDB, an array from PostgreSQL; empty when NULL. */
export function readJsonArray(value: unknown): unknown[] {
  if (value === null || value === undefined) return [];
  return typeof value === 'string' ? JSON.parse(value) : (value as unknown[]);
}

/** Numbered placeholders for a list of parameters: `placeholders(3, 2)` → `$2, $3, $4`. */
export function placeholders(count: number, first = 1): string {
  return Array.from({ length: count }, (_, i) => `$${first + i}`).join(', ');
}

/**
 * Whether an insert failed on a unique index: PostgreSQL's SQLSTATE 23505, or DuckDB's constraint
 * error (raised also against a concurrent insert not yet visible to a query that checks first).
 */
export function isUniqueViolation(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  if ((err as { code?: unknown }).code === '23505') return true;
  return /^Constraint Error: Duplicate key .* violates unique constraint/.test(
    String((err as Error).message),
  );
}
