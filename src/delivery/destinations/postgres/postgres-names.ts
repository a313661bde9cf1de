/** Names the connector adds to every table and staging table: a field may not take them. */
export const UPDATED_AT_COLUMN = 'sluice_updated_at';
export const ROW_NUMBER_COLUMN = 'sluice_row';

/** A plain SQL name: a letter or underscore, then letters, digits, underscores; 63 at most (PostgreSQL's limit). */
export const SQL_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Whether `name` matches `SQL_NAME`, so it can be a schema, table or column without surprises. */
export function isSqlName(name: string): boolean {
  return SQL_NAME.test(name);
}

/**
 * A double-quoted identifier. Names are checked with `isSqlName` first; quoting still doubles any
 * quote so that a name can never end the identifier early. `quoteName('First_Name')` → `"First_Name"`.
 */
export function quoteName(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** `"schema"."table"`. */
export function qualifiedName(schema: string, table: string): string {
  return `${quoteName(schema)}.${quoteName(table)}`;
}
