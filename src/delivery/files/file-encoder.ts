import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { UserError } from '../../core/index.js';
import type { DeliveryBatch } from '../connector.js';
import { copyStatement } from './copy-statement.js';
import { type FileOptions, fileExtension } from './file-options-schema.js';
import { renderFilename } from './filename-template.js';
import { spoolLines } from './line-spool.js';
import { encryptFile, readEncryptionKey } from './pgp-encryption.js';
import { type ColumnType, type SpoolPiece, spoolRows } from './row-spool.js';

/** One finished local file: where it is, the name it gets at the destination, what it holds. */
export interface EncodedFile {
  path: string;
  name: string;
  rows: number;
  bytes: number;
}

/** What a whole batch became: its data files, and the name of its `.DONE` marker. */
export interface EncodedBatch {
  files: EncodedFile[];
  doneMarkerName: string;
}

export interface EncodeOptions {
  signal?: AbortSignal;
  /** Rows per spool piece in delimited formats (tests make it small to cover appending). */
  rowsPerPiece?: number;
}

/**
 * Delimited formats are encoded a million rows at a time: DuckDB writes one piece while the next
 * is spooled, and each piece's output is appended to its part (gzip members and zstd frames
 * concatenate into one valid stream). Typed formats must see every value before choosing a
 * column's type, so they are written once all rows are spooled.
 */
const ROWS_PER_PIECE = 1_000_000;

/**
 * Encodes a batch into local files under `dir`, one per part of `maxRowsPerFile` rows: rows are
 * spooled to CSV, then an in-memory DuckDB writes the final format, compression and quoting; a
 * PGP key encrypts each file afterwards. Throws a UserError for a bad template or key.
 */
export async function encodeBatch(
  batch: DeliveryBatch,
  options: FileOptions,
  dir: string,
  { signal, rowsPerPiece = ROWS_PER_PIECE }: EncodeOptions = {},
): Promise<EncodedBatch> {
  if (batch.fields.length === 0) {
    throw new UserError('no_fields', 'a file needs at least one field: map some fields to this destination');
  }
  const baseName = renderFilename(options.filenameTemplate, batch);
  const extension = fileExtension(options);
  // Read the key before the rows: a bad key should fail at once, not after spooling millions of rows.
  const key = options.pgpPublicKey === undefined ? undefined : await readEncryptionKey(options.pgpPublicKey);
  const work = await mkdtemp(join(dir, 'encode-'));
  let instance: DuckDBInstance | undefined;
  let connection: DuckDBConnection | undefined;
  let inFlight: Promise<void> = Promise.resolve();
  try {
    instance = await DuckDBInstance.create(':memory:', { autoinstall_known_extensions: 'false' });
    connection = await instance.connect();
    const writer = new PartWriter(connection, batch.fields, options, work);
    const delimited = options.format !== 'ndjson' && options.format !== 'parquet';
    const layout = { rowsPerPart: options.maxRowsPerFile ?? Number.POSITIVE_INFINITY };
    let columnTypes: ColumnType[];
    if (delimited) {
      const textColumns = batch.fields.map((): ColumnType => 'VARCHAR');
      const onPiece = async (piece: SpoolPiece) => {
        // One piece in DuckDB at a time; a failed one stops the spooling at the next piece.
        await inFlight;
        inFlight = writer.write(piece, textColumns);
        inFlight.catch(() => {});
      };
      await spoolLines(batch, work, { ...layout, rowsPerPiece, onPiece }, signal);
      columnTypes = textColumns;
      await inFlight;
    } else {
      const spool = await spoolRows(
        batch,
        work,
        { ...layout, rowsPerPiece: Number.POSITIVE_INFINITY },
        signal,
      );
      columnTypes = spool.columnTypes;
      for (const piece of spool.pieces) {
        signal?.throwIfAborted();
        await writer.write(piece, columnTypes);
      }
    }
    const split = writer.parts.length > 1;
    const files: EncodedFile[] = [];
    try {
      for (const [i, part] of writer.parts.entries()) {
        const name = `${baseName}${split ? `_part${String(i + 1).padStart(3, '0')}` : ''}${extension}`;
        const path = join(dir, name);
        files.push({ path, name, rows: part.rows, bytes: 0 });
        if (key) await encryptFile(part.path, path, key, name.slice(0, -'.gpg'.length));
        else await rename(part.path, path);
        files[i]!.bytes = (await stat(path)).size;
      }
    } catch (err) {
      // No half-encrypted or orphaned file may outlive a failed encoding.
      await Promise.all(files.map((file) => rm(file.path, { force: true })));
      throw err;
    }
    return { files, doneMarkerName: `${baseName}${extension}.DONE` };
  } finally {
    // DuckDB may still be writing a piece when spooling failed: let it finish before closing.
    await inFlight.catch(() => {});
    connection?.closeSync();
    instance?.closeSync();
    await rm(work, { recursive: true, force: true });
  }
}

/** Turns spool pieces into each part's local output file, appending pieces after the first. */
class PartWriter {
  readonly parts: { path: string; rows: number }[] = [];

  constructor(
    private readonly connection: DuckDBConnection,
    private readonly fields: readonly string[],
    private readonly options: FileOptions,
    private readonly work: string,
  ) {}

  async write(piece: SpoolPiece, columnTypes: readonly ColumnType[]): Promise<void> {
    const first = piece.index === 0;
    const partPath = join(this.work, `part-${piece.part}.out`);
    const outputPath = first ? partPath : join(this.work, `piece-${piece.part}-${piece.index}.out`);
    await this.connection.run(
      copyStatement({
        spoolPath: piece.path,
        spoolFormat: piece.format,
        fields: this.fields,
        columnTypes,
        outputPath,
        // The header opens the file: later pieces carry rows only.
        options: { ...this.options, header: this.options.header && first },
      }),
    );
    await rm(piece.path);
    if (!first) {
      await pipeline(createReadStream(outputPath), createWriteStream(partPath, { flags: 'a' }));
      await rm(outputPath);
    }
    const part = this.parts[piece.part];
    if (part) part.rows += piece.rows;
    else this.parts[piece.part] = { path: partPath, rows: piece.rows };
  }
}
