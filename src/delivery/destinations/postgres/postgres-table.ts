import type pg from 'pg';
import { DeliveryFailure } from '../../connector.js';
import { qualifiedName, quoteName, UPDATED_AT_COLUMN } from './postgres-names.js';

/** Where a batch goes: the table and its key column. */
export interface TableTarget {
  schema: string;
  table: string;
  keyField: string;
}

/**
 * Makes sure the table has a TEXT column for every field, creating the table (key as primary key,
 * plus `sluice_updated_at`) or adding columns when `createTable` allows. Runs inside the caller's
 * transaction, so a failed batch leaves no half-made table behind.
 *
 * @example
 * CREATE TABLE "public"."buyers" ("profile_id" text PRIMARY KEY, "email" text,
 *   "sluice_updated_at" timestamptz NOT NULL DEFAULT now())
 * ALTER TABLE "public"."buyers" ADD COLUMN "first_name" text
 */
export async function prepareTable(
  client: pg.ClientBase,
  target: TableTarget,
  fields: readonly string[],
  createTable: boolean,
): Promise<void> {
  const name = qualifiedName(target.schema, target.table);
  const existing = await columnsOf(client, target);
  const wanted = [...new Set([target.keyField, ...fields, UPDATED_AT_COLUMN])];
  const missing = wanted.filter((column) => !existing.has(column));
  if (missing.length === 0) return;
  const shown = `${target.schema}.${target.table}`;
  if (!createTable) {
    const what = existing.size === 0 ? 'does not exist' : `has no column ${missing.join(', ')}`;
    throw new DeliveryFailure('refused', `table ${shown} ${what}: create it, or turn on createTable`);
  }
  // Concurrent batches to a new table would race on CREATE (a unique violation in the catalog);
  // under the lock, look again: another batch may have made the table meanwhile.
  await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`sluice:${shown}`]);
  const current = await columnsOf(client, target);
  if (current.size === 0) {
    const columns = wanted
      .filter((column) => column !== target.keyField && column !== UPDATED_AT_COLUMN)
      .map((column) => `${quoteName(column)} text`);
    await client.query(
      `CREATE TABLE ${name} (${[
        `${quoteName(target.keyField)} text PRIMARY KEY`,
        ...columns,
        `${quoteName(UPDATED_AT_COLUMN)} timestamptz NOT NULL DEFAULT now()`,
      ].join(', ')})`,
    );
    return;
  }
  for (const column of wanted.filter((c) => !current.has(c))) {
    const type = column === UPDATED_AT_COLUMN ? 'timestamptz NOT NULL DEFAULT now()' : 'text';
    await client.query(`ALTER TABLE ${name} ADD COLUMN ${quoteName(column)} ${type}`);
  }
}

async function columnsOf(client: pg.ClientBase, target: TableTarget): Promise<Set<string>> {
  const { rows } = await client.query<{ attname: string }>(
    `SELECT a.attname FROM pg_attribute a
       JOIN pg_class c ON c.oid = a.attrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped`,
    [target.schema, target.table],
  );
  return new Set(rows.map((r) => r.attname));
}
