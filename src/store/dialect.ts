/** What differs between the engines' SQL. Everything else is written once. */
export interface Dialect {
  readonly name: 'duckdb' | 'postgres';
  /** Column type for JSON documents. */
  readonly jsonType: string;
  /** Column type for bytes. */
  readonly blobType: string;
}

export const duckdbDialect: Dialect = { name: 'duckdb', jsonType: 'JSON', blobType: 'BLOB' };

export const postgresDialect: Dialect = { name: 'postgres', jsonType: 'JSONB', blobType: 'BYTEA' };

/** JSON columns come back as text from DuckDB and as objects from PostgreSQL. */
export function readJson(value: unknown): Record<string, unknown> {
  if (value === null || value === undefined) return {};
  return typeof value === 'string' ? JSON.parse(value) : (value as Record<string, unknown>);
}
