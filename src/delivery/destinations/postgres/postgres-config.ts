import { z } from 'zod';
import { secret } from '../../secret-fields.js';
import { ROW_NUMBER_COLUMN, SQL_NAME, UPDATED_AT_COLUMN } from './postgres-names.js';

function sqlName(field: string, description: string) {
  return z
    .string()
    .regex(
      SQL_NAME,
      `${field} must be a plain SQL name: a letter or _, then letters, digits or _ (63 at most)`,
    )
    .describe(description);
}

function isPostgresUrl(value: string): boolean {
  if (!/^postgres(ql)?:\/\//.test(value)) return false;
  try {
    new URL(value);
    return true;
  } catch {
    return false;
  }
}

/** A PostgreSQL table destination: one row per person, keyed by `keyField`. */
export const PostgresConfigSchema = z.object({
  connectionString: secret('postgres://user:password@host:5432/database').refine(
    isPostgresUrl,
    'connectionString must be a postgres:// or postgresql:// URL',
  ),
  schema: sqlName('schema', 'The schema the table is in.').default('public'),
  table: sqlName('table', 'The table Sluice writes into.'),
  keyField: sqlName('keyField', 'The field that identifies a row: the primary key.')
    .refine(
      (name) => name !== UPDATED_AT_COLUMN && name !== ROW_NUMBER_COLUMN,
      'keyField may not be a sluice_ column',
    )
    .default('profile_id'),
  mode: z
    .enum(['upsert', 'mirror'])
    .default('upsert')
    .describe('upsert: rows are added and updated, never removed; mirror: removes delete the rows.'),
  createTable: z
    .boolean()
    .default(true)
    .describe('Create the table, and columns for new fields, as TEXT; otherwise they must exist.'),
});

export type PostgresConfig = z.output<typeof PostgresConfigSchema>;
