import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import {
  type ImportFormat,
  type ImportMapping,
  type Source,
  type StoredEvent,
  UserError,
} from '../../core/index.js';
import type { ImportRun, ProfileRecord, Reject, Store } from '../../store/index.js';
import { inferMapping } from './default-mapping.js';
import {
  checkMappingColumns,
  type MappedRow,
  mapRow,
  mapSegmentEvent,
  type RowContext,
} from './row-mapper.js';
import { formatFromFileName, openRowSource } from './row-source.js';

export interface ImportOptions {
  source: Source;
  path: string;
  /** Name recorded for the import (default: the file's base name). */
  fileName?: string | undefined;
  format?: ImportFormat | undefined;
  mapping?: ImportMapping | undefined;
  /** Called every `progressEvery` rows and at the end. */
  onProgress?: ((progress: ImportProgress) => void) | undefined;
}

export interface ImportProgress {
  rowsRead: number;
  rowsStored: number;
  rowsRejected: number;
}

export interface ImportReport extends ImportRun {
  /** True when this content had already been imported into this source: nothing was stored again. */
  alreadyImported: boolean;
}

const BATCH_ROWS = 10_000;

/**
 * Imports a CSV, TSV, NDJSON or Parquet file into a source, in constant memory. Rows that cannot
 * be used become rejects with their row (line) number; the rest is stored. Importing the same
 * content again into the same source stores nothing and reports the earlier import.
 */
export async function importFile(store: Store, options: ImportOptions): Promise<ImportReport> {
  const { source, path } = options;
  const fileName = options.fileName ?? basename(path);
  const format = options.format ?? formatFromFileName(fileName);
  if (!format) {
    throw new UserError(
      'unknown_format',
      `cannot tell the format of ${fileName}: use --format csv|tsv|ndjson|parquet`,
      [{ code: 'unknown_format', path: ['format'], message: 'format is required for this file name' }],
    );
  }
  if (options.mapping && options.mapping.kind !== source.kind) {
    throw new UserError(
      'mapping_kind',
      `the mapping is for ${options.mapping.kind}, but source ${source.name} takes ${source.kind}`,
      [{ code: 'invalid_value', path: ['mapping', 'kind'], message: `must be ${source.kind}` }],
    );
  }
  const fileSha256 = await sha256File(path);
  const earlier = await store.imports.findByContent(source.id, fileSha256);
  const completed = earlier.find((r) => r.status === 'completed');
  if (completed) return { ...completed, alreadyImported: true };
  // An attempt that failed or was cut off by a crash left partial rows: remove them, then redo.
  for (const attempt of earlier) await removeImport(store, attempt.id);

  const rows = await openRowSource(path, format);
  const columns = await rows.columns();
  const mapping = options.mapping ?? (columns ? inferMapping(source.kind, columns) : undefined);
  if (mapping && columns) checkMappingColumns(mapping, columns);

  const run = await store.imports.start({ sourceId: source.id, fileName, fileSha256, format });
  const ctx: RowContext = {
    sourceId: source.id,
    importId: run.id,
    contentKey: fileSha256.slice(0, 16),
    receivedAt: new Date(),
  };
  const progress: ImportProgress = { rowsRead: 0, rowsStored: 0, rowsRejected: 0 };
  let records: ProfileRecord[] = [];
  let events: StoredEvent[] = [];
  let rejects: Reject[] = [];
  const flush = async () => {
    await store.records.append(records);
    await store.events.append(events, run.id);
    await store.rejects.append(rejects);
    progress.rowsStored += records.length + events.length;
    progress.rowsRejected += rejects.length;
    records = [];
    events = [];
    rejects = [];
    options.onProgress?.({ ...progress });
  };
  try {
    for await (const row of rows.rows()) {
      progress.rowsRead++;
      const mapped: MappedRow =
        row.values === undefined
          ? { kind: 'reject', reason: row.error, path: null }
          : mapping
            ? mapRow(mapping, row.values, row.rowNumber, ctx)
            : source.kind === 'events'
              ? mapSegmentEvent(row.values, row.rowNumber, ctx)
              : mapRow(inferMapping('profiles', Object.keys(row.values)), row.values, row.rowNumber, ctx);
      if (mapped.kind === 'record') records.push(mapped.record);
      else if (mapped.kind === 'event') events.push(mapped.event);
      else {
        rejects.push({
          sourceId: source.id,
          importId: run.id,
          rowNumber: row.rowNumber,
          messageId: null,
          reason: mapped.reason,
          path: mapped.path,
          payload: row.values === undefined ? row.raw : JSON.stringify(row.values),
          receivedAt: ctx.receivedAt,
        });
      }
      if (records.length + events.length + rejects.length >= BATCH_ROWS) await flush();
    }
    await flush();
  } catch (err) {
    await store.imports.finish(run.id, { status: 'failed', ...progress, error: (err as Error).message });
    throw err;
  }
  return {
    ...(await store.imports.finish(run.id, { status: 'completed', ...progress })),
    alreadyImported: false,
  };
}

async function removeImport(store: Store, importId: string): Promise<void> {
  await store.records.deleteImport(importId);
  await store.events.deleteImport(importId);
  await store.rejects.deleteImport(importId);
  await store.imports.delete(importId);
}

function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('hex')))
      .on('error', (err) =>
        reject(
          (err as NodeJS.ErrnoException).code === 'ENOENT'
            ? new UserError('file_not_found', `no file at ${path}`)
            : err,
        ),
      );
  });
}
