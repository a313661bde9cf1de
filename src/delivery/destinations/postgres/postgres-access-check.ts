import type pg from 'pg';
import { DeliveryFailure } from '../../connector.js';
import type { PostgresConfig } from './postgres-config.js';
import { qualifiedName } from './postgres-names.js';

interface Access {
  user: string;
  database: string;
  schema_exists: boolean;
  schema_usage: boolean | null;
  schema_create: boolean | null;
  table_exists: boolean;
  table_rights: boolean | null;
}

/**
 * Checks, without writing anything, that the configured user may write the table: the schema
 * exists and is usable, and either the table grants the rights a delivery needs or the user may
 * create it. Throws a refused `DeliveryFailure` saying what is missing.
 */
export async function checkWriteAccess(client: pg.ClientBase, config: PostgresConfig): Promise<void> {
  const table = qualifiedName(config.schema, config.table);
  // Deletes only happen in mirror mode; the upsert's WHERE reads the row, hence SELECT.
  const rights = config.mode === 'mirror' ? 'SELECT, INSERT, UPDATE, DELETE' : 'SELECT, INSERT, UPDATE';
  const { rows } = await client.query<Access>(
    `WITH s AS (SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) AS found),
          t AS (SELECT to_regclass($2) AS oid)
     SELECT current_user AS user, current_database() AS database, s.found AS schema_exists,
            CASE WHEN s.found THEN has_schema_privilege($1, 'USAGE') END AS schema_usage,
            CASE WHEN s.found THEN has_schema_privilege($1, 'CREATE') END AS schema_create,
            t.oid IS NOT NULL AS table_exists,
            CASE WHEN t.oid IS NOT NULL THEN has_table_privilege(t.oid, $3) END AS table_rights
       FROM s, t`,
    [config.schema, table, rights],
  );
  const access = rows[0];
  if (!access) throw new Error('the access check returned no row');
  const shown = `${config.schema}.${config.table}`;
  if (!access.schema_exists) {
    refuse(`schema ${config.schema} does not exist in database ${access.database}`);
  }
  if (!access.schema_usage) refuse(`user ${access.user} may not use schema ${config.schema} (USAGE)`);
  if (access.table_exists) {
    if (!access.table_rights) refuse(`user ${access.user} lacks ${rights} on table ${shown}`);
    return;
  }
  if (!config.createTable) refuse(`table ${shown} does not exist and createTable is off`);
  if (!access.schema_create) {
    refuse(`user ${access.user} may not create table ${shown} (CREATE on schema ${config.schema})`);
  }
}

function refuse(message: string): never {
  throw new DeliveryFailure('refused', message);
}
