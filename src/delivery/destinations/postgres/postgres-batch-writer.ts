import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { DeliveryBatch, DeliveryRecord, DeliveryResult } from '../../connector.js';
import { qualifiedName, quoteName, ROW_NUMBER_COLUMN, UPDATED_AT_COLUMN } from './postgres-names.js';
import type { TableTarget } from './postgres-table.js';

const STAGE = 'pg_temp.sluice_stage';
// Past this many, rows without a key are reported as one count rather than one reason each.
const LISTED_REJECTIONS = 100;

type Rejections = DeliveryResult['rejections'];

/**
 * Copies the batch's rows into a temporary table that disappears at commit, skipping (and
 * reporting) rows without a key. Returns how many rows went in.
 *
 * @example
 * CREATE TEMP TABLE sluice_stage ("sluice_row" integer, "profile_id" text, "email" text) ON COMMIT DROP
 * COPY pg_temp.sluice_stage ("sluice_row", "profile_id", "email") FROM STDIN
 */
export async function stageRows(
  client: pg.ClientBase,
  batch: DeliveryBatch,
  columns: readonly string[],
  keyField: string,
  rejections: Rejections,
): Promise<number> {
  const staged = [ROW_NUMBER_COLUMN, ...columns].map(quoteName);
  await client.query(
    `CREATE TEMP TABLE sluice_stage (${staged.map((c, i) => `${c} ${i === 0 ? 'integer' : 'text'}`).join(', ')}) ON COMMIT DROP`,
  );
  let copied = 0;
  let missingKey = 0;
  async function* lines() {
    let index = 0;
    for await (const chunk of batch.rows()) {
      let text = '';
      for (const row of chunk) {
        const at = index++;
        if (!hasKey(row, keyField)) {
          missingKey += 1;
          if (missingKey <= LISTED_REJECTIONS) rejections.push({ row: at, reason: `no ${keyField}` });
          continue;
        }
        copied += 1;
        text += `${at}\t${columns.map((c) => copyText(row[c])).join('\t')}\n`;
      }
      if (text) yield text;
    }
  }
  const stream = client.query(copyFrom(`COPY ${STAGE} (${staged.join(', ')}) FROM STDIN`));
  await pipeline(lines(), stream as Writable);
  if (missingKey > LISTED_REJECTIONS) {
    rejections.push({ reason: `no ${keyField}`, count: missingKey - LISTED_REJECTIONS });
  }
  return copied;
}

/**
 * Inserts the staged rows, updating existing keys only where a value differs, so that a resent
 * batch writes nothing. A key twice in one batch: the later row wins.
 *
 * @example
 * INSERT INTO "public"."buyers" AS t ("profile_id", "email", "sluice_updated_at")
 * SELECT DISTINCT ON ("profile_id") "profile_id", "email", now() FROM pg_temp.sluice_stage
 *  ORDER BY "profile_id", "sluice_row" DESC
 * ON CONFLICT ("profile_id") DO UPDATE SET "email" = excluded."email", "sluice_updated_at" = excluded."sluice_updated_at"
 *  WHERE (t."email") IS DISTINCT FROM (excluded."email")
 */
export async function upsertStaged(
  client: pg.ClientBase,
  target: TableTarget,
  columns: readonly string[],
): Promise<number> {
  const key = quoteName(target.keyField);
  const values = columns.filter((c) => c !== target.keyField).map(quoteName);
  const updated = quoteName(UPDATED_AT_COLUMN);
  const onConflict =
    values.length === 0
      ? 'DO NOTHING'
      : `DO UPDATE SET ${[...values, updated].map((c) => `${c} = excluded.${c}`).join(', ')}
         WHERE (${values.map((c) => `t.${c}`).join(', ')}) IS DISTINCT FROM (${values.map((c) => `excluded.${c}`).join(', ')})`;
  const result = await client.query(
    `INSERT INTO ${qualifiedName(target.schema, target.table)} AS t (${[key, ...values, updated].join(', ')})
     SELECT DISTINCT ON (${key}) ${[key, ...values].join(', ')}, now() FROM ${STAGE}
      ORDER BY ${key}, ${quoteName(ROW_NUMBER_COLUMN)} DESC
     ON CONFLICT (${key}) ${onConflict}`,
  );
  return result.rowCount ?? 0;
}

/**
 * Deletes the rows whose keys are staged.
 *
 * @example
 * DELETE FROM "public"."buyers" AS t USING pg_temp.sluice_stage s WHERE t."profile_id" = s."profile_id"
 */
export async function deleteStaged(client: pg.ClientBase, target: TableTarget): Promise<number> {
  const key = quoteName(target.keyField);
  const result = await client.query(
    `DELETE FROM ${qualifiedName(target.schema, target.table)} AS t USING ${STAGE} s WHERE t.${key} = s.${key}`,
  );
  return result.rowCount ?? 0;
}

function hasKey(row: DeliveryRecord, keyField: string): boolean {
  const key = row[keyField];
  return key !== undefined && key !== null && key !== '';
}

/** One cell in COPY's text format; NUL cannot be stored in PostgreSQL text, so it is dropped. */
function copyText(value: DeliveryRecord[string] | undefined): string {
  if (value === null || value === undefined) return '\\N';
  return String(value)
    .replaceAll('\0', '')
    .replace(/[\\\n\r\t]/g, (c) => (c === '\\' ? '\\\\' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : '\\t'));
}
