import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { assertNever, type ImportFormat } from '../../core/index.js';
import { csvRows } from './csv-rows.js';
import { ndjsonRows } from './ndjson-rows.js';
import { parquetRows } from './parquet-rows.js';

/** One row of an input file: its values by column, or why it could not be read. */
export type RawRow =
  | { rowNumber: number; values: Record<string, unknown>; error?: undefined }
  | { rowNumber: number; error: string; raw: string | null; values?: undefined };

/** The rows of a file, read in constant memory, with the file's columns once known. */
export interface RowSource {
  /** Column names (the CSV header; for NDJSON, undefined: each row brings its own keys). */
  columns(): Promise<string[] | undefined>;
  rows(): AsyncIterable<RawRow>;
}

/** Opens `path` as `format`; `.gz` (detected by content) is decompressed on the fly. */
export async function openRowSource(path: string, format: ImportFormat): Promise<RowSource> {
  switch (format) {
    case 'csv':
      return csvRows(await textStream(path), ',');
    case 'tsv':
      return csvRows(await textStream(path), '\t');
    case 'ndjson':
      return ndjsonRows(await textStream(path));
    case 'parquet':
      return parquetRows(path);
    default:
      return assertNever(format);
  }
}

/** The format a file name suggests (`customers.csv.gz` → csv), or undefined. */
export function formatFromFileName(fileName: string): ImportFormat | undefined {
  const base = fileName.toLowerCase().replace(/\.(gz|gzip)$/, '');
  if (base.endsWith('.csv')) return 'csv';
  if (base.endsWith('.tsv') || base.endsWith('.tab')) return 'tsv';
  if (base.endsWith('.ndjson') || base.endsWith('.jsonl') || base.endsWith('.json')) return 'ndjson';
  if (base.endsWith('.parquet') || base.endsWith('.pq')) return 'parquet';
  return undefined;
}

async function textStream(path: string): Promise<Readable> {
  const handle = await open(path);
  const magic = Buffer.alloc(2);
  try {
    await handle.read(magic, 0, 2, 0);
  } finally {
    await handle.close();
  }
  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  return magic[0] === 0x1f && magic[1] === 0x8b ? stream.pipe(createGunzip()) : stream;
}
