import pg from 'pg';
import {
  type ConnectorContext,
  type DeliveryBatch,
  DeliveryFailure,
  defineConnector,
} from '../../connector.js';
import { checkWriteAccess } from './postgres-access-check.js';
import { deleteStaged, stageRows, upsertStaged } from './postgres-batch-writer.js';
import { type PostgresConfig, PostgresConfigSchema } from './postgres-config.js';
import { postgresFailure } from './postgres-failure.js';
import { isSqlName, ROW_NUMBER_COLUMN, UPDATED_AT_COLUMN } from './postgres-names.js';
import { prepareTable } from './postgres-table.js';

/**
 * Writes an audience into a PostgreSQL table, one row per person keyed by `keyField`. Each batch
 * is one transaction (COPY into a temporary table, then one INSERT ... ON CONFLICT or DELETE),
 * so a retry after a crash leaves the table as one delivery would.
 */
export const postgresConnector = defineConnector({
  id: 'postgres',
  label: 'PostgreSQL table',
  configSchema: PostgresConfigSchema,
  capabilities: (config) => ({
    kind: 'records',
    fields: 'any',
    defaultFields: [config.keyField, 'email'],
    supportsRemovals: config.mode === 'mirror',
    maxBatchSize: 10_000,
  }),
  test: ({ config, signal }) => withClient(config, signal, (client) => checkWriteAccess(client, config)),
  deliver: ({ config, signal }, batch) =>
    withClient(config, signal, (client) => deliverBatch(client, config, batch)),
});

async function deliverBatch(client: pg.Client, config: PostgresConfig, batch: DeliveryBatch) {
  if (batch.operation === 'remove' && config.mode !== 'mirror') {
    throw new DeliveryFailure(
      'refused',
      'removes need mode "mirror"; in mode "upsert" rows are never deleted',
    );
  }
  const target = { schema: config.schema, table: config.table, keyField: config.keyField };
  // A remove needs only the keys; an add writes every field of the batch.
  const columns = batch.operation === 'remove' ? [config.keyField] : columnsOf(batch, config.keyField);
  const rejections: { row?: number; reason: string; count?: number }[] = [];
  await client.query('BEGIN');
  try {
    if (batch.operation === 'add') await prepareTable(client, target, columns, config.createTable);
    const staged = await stageRows(client, batch, columns, config.keyField, rejections);
    let changed = 0;
    if (staged > 0 && batch.operation === 'add') changed = await upsertStaged(client, target, columns);
    if (staged > 0 && batch.operation === 'remove' && (await tableExists(client, config))) {
      changed = await deleteStaged(client, target);
    }
    await client.query('COMMIT');
    return {
      accepted: staged,
      rejected: batch.rowCount - staged,
      rejections,
      detail: { table: `${config.schema}.${config.table}`, rowsChanged: changed },
    };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** The batch's fields with the key first; refuses names that cannot be columns. */
function columnsOf(batch: DeliveryBatch, keyField: string): string[] {
  for (const field of batch.fields) {
    if (!isSqlName(field) || field === UPDATED_AT_COLUMN || field === ROW_NUMBER_COLUMN) {
      throw new DeliveryFailure(
        'refused',
        `field "${field}" cannot be a column: use letters, digits and _ (63 at most), and no sluice_ column name`,
      );
    }
  }
  return [keyField, ...batch.fields.filter((field) => field !== keyField)];
}

async function tableExists(client: pg.ClientBase, config: PostgresConfig): Promise<boolean> {
  const { rows } = await client.query<{ found: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                     WHERE n.nspname = $1 AND c.relname = $2) AS found`,
    [config.schema, config.table],
  );
  return rows[0]?.found === true;
}

/** Runs `work` on a fresh connection, closed afterwards; aborting closes it (the server rolls back). */
async function withClient<T>(
  config: PostgresConfig,
  signal: ConnectorContext<PostgresConfig>['signal'],
  work: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client({
    connectionString: config.connectionString,
    connectionTimeoutMillis: 10_000,
  });
  // A connection lost between queries is reported by the failing query; this keeps it from crashing the process.
  client.on('error', () => undefined);
  const abort = () => void client.end().catch(() => undefined);
  signal.addEventListener('abort', abort, { once: true });
  try {
    await client.connect();
    return await work(client);
  } catch (err) {
    if (err instanceof DeliveryFailure) throw err;
    throw postgresFailure(err, config.connectionString);
  } finally {
    signal.removeEventListener('abort', abort);
    await client.end().catch(() => undefined);
  }
}
