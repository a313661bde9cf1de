import { type FileHandle, open } from 'node:fs/promises';
import { join } from 'node:path';
import type { DeliveryBatch } from '../connector.js';
import { compileRowEncoder, SEEN_BOOLEAN, SEEN_FRACTION, SEEN_INTEGER } from './row-encoder.js';

/** The SQL type a column gets in typed formats (NDJSON, Parquet); delimited formats write text. */
export type ColumnType = 'BIGINT' | 'DOUBLE' | 'BOOLEAN' | 'VARCHAR';

/** One spool file: up to `rowsPerPiece` consecutive rows of one part. */
export interface SpoolPiece {
  path: string;
  /** `csv` from rows, `lines` from value lines (see `CopyRequest.spoolFormat`). */
  format: 'csv' | 'lines';
  /** The output part it belongs to, from 0. */
  part: number;
  /** Its place within the part, from 0. */
  index: number;
  rows: number;
}

export interface SpoolLayout {
  /** Rows per output file; past it a new part starts. */
  rowsPerPart: number;
  /** Rows per spool file, so a consumer can start on finished pieces while later rows are spooled. */
  rowsPerPiece: number;
  /** Called, and awaited, as each piece is complete (in order). */
  onPiece?: (piece: SpoolPiece) => Promise<void>;
}

/** A batch's rows written to local CSV spool files, with each column's type as seen over all rows. */
export interface RowSpool {
  pieces: SpoolPiece[];
  columnTypes: ColumnType[];
}

const WRITE_CHARS = 1 << 16;
const ROWS_PER_SLICE = 1000;

/**
 * Writes a batch's rows, in order, to CSV spool files, a new file at every part or piece boundary,
 * so that DuckDB reads them with its fast, parallel CSV reader. Only one chunk of rows is held at a
 * time. `null` is written as an empty field and `""` as a quoted empty one (read back with
 * `allow_quoted_nulls=false`), so the two stay apart. A batch without rows is one empty piece.
 */
export async function spoolRows(
  batch: DeliveryBatch,
  dir: string,
  layout: SpoolLayout,
  signal?: AbortSignal,
): Promise<RowSpool> {
  const fields = batch.fields;
  const kinds = new Array<number>(fields.length).fill(0);
  const encodeRows = compileRowEncoder(fields);
  const pieces: SpoolPiece[] = [];
  let partRows = 0;
  let current = piece(dir, 0, 0);
  let file = await SpoolFile.open(current.path);
  let text = '';
  const finishPiece = async () => {
    await file.close(text);
    text = '';
    pieces.push(current);
    await layout.onPiece?.(current);
  };
  try {
    for await (const chunk of batch.rows()) {
      signal?.throwIfAborted();
      let offset = 0;
      while (offset < chunk.length) {
        if (partRows === layout.rowsPerPart || current.rows === layout.rowsPerPiece) {
          await finishPiece();
          const newPart = partRows === layout.rowsPerPart;
          if (newPart) partRows = 0;
          current = newPart ? piece(dir, current.part + 1, 0) : piece(dir, current.part, current.index + 1);
          file = await SpoolFile.open(current.path);
        }
        // As many rows as fit before the next part or piece boundary, a bounded slice at a time.
        const count = Math.min(
          chunk.length - offset,
          layout.rowsPerPart - partRows,
          layout.rowsPerPiece - current.rows,
          ROWS_PER_SLICE,
        );
        text += encodeRows(chunk, offset, offset + count, kinds);
        offset += count;
        current.rows += count;
        partRows += count;
        if (text.length >= WRITE_CHARS) {
          await file.write(text);
          text = '';
        }
      }
    }
    await finishPiece();
  } finally {
    await file.abandon();
  }
  return { pieces, columnTypes: kinds.map(columnType) };
}

/**
 * A spool file with one write in flight while the next text is built, so encoding and the disk
 * overlap. Text is written in pieces of about `WRITE_CHARS`: V8 concatenates cheaply, but
 * flattening one very long string before a write costs more than several short writes.
 */
export class SpoolFile {
  private pending: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(private readonly handle: FileHandle) {}

  static async open(path: string): Promise<SpoolFile> {
    return new SpoolFile(await open(path, 'w'));
  }

  async write(text: string): Promise<void> {
    await this.pending;
    this.pending = this.handle.write(text);
    // Marked handled now; the next write or close still awaits it and sees any failure.
    this.pending.catch(() => {});
  }

  async close(rest: string): Promise<void> {
    await this.write(rest);
    await this.pending;
    this.closed = true;
    await this.handle.close();
  }

  /** Closes the file after a failure, without masking the failure. */
  async abandon(): Promise<void> {
    if (this.closed) return;
    await this.pending.catch(() => {});
    await this.handle.close().catch(() => {});
  }
}

function columnType(kinds: number): ColumnType {
  if (kinds === SEEN_INTEGER) return 'BIGINT';
  if (kinds === SEEN_FRACTION || kinds === (SEEN_INTEGER | SEEN_FRACTION)) return 'DOUBLE';
  if (kinds === SEEN_BOOLEAN) return 'BOOLEAN';
  return 'VARCHAR';
}

/** An empty spool piece of a part. */
export function piece(
  dir: string,
  part: number,
  index: number,
  format: SpoolPiece['format'] = 'csv',
): SpoolPiece {
  const extension = format === 'csv' ? 'csv' : 'ndjson';
  return { path: join(dir, `spool-${part}-${index}.${extension}`), format, part, index, rows: 0 };
}
