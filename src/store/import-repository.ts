import { newId } from '../core/index.js';
import type { Database } from './database.js';

export type ImportStatus = 'running' | 'completed' | 'failed';

export interface ImportRun {
  id: string;
  sourceId: string;
  fileName: string;
  fileSha256: string;
  format: string;
  status: ImportStatus;
  rowsRead: number;
  rowsStored: number;
  rowsRejected: number;
  error: string | null;
  startedAt: Date;
  finishedAt: Date | null;
}

const toRun = (r: Record<string, unknown>): ImportRun => ({
  id: r.id as string,
  sourceId: r.source_id as string,
  fileName: r.file_name as string,
  fileSha256: r.file_sha256 as string,
  format: r.format as string,
  status: r.status as ImportStatus,
  rowsRead: r.rows_read as number,
  rowsStored: r.rows_stored as number,
  rowsRejected: r.rows_rejected as number,
  error: r.error as string | null,
  startedAt: r.started_at as Date,
  finishedAt: r.finished_at as Date | null,
});

/** File imports: one row per attempt, so that re-importing a file can be recognised. */
export class ImportRepository {
  constructor(private readonly db: Database) {}

  async start(input: {
    sourceId: string;
    fileName: string;
    fileSha256: string;
    format: string;
  }): Promise<ImportRun> {
    const id = newId('imp');
    await this.db.query(
      `INSERT INTO imports (id, source_id, file_name, file_sha256, format, status, started_at)
       VALUES ($1, $2, $3, $4, $5, 'running', $6)`,
      [id, input.sourceId, input.fileName, input.fileSha256, input.format, new Date()],
    );
    return this.get(id);
  }

  async finish(
    id: string,
    result: {
      status: Exclude<ImportStatus, 'running'>;
      rowsRead: number;
      rowsStored: number;
      rowsRejected: number;
      error?: string;
    },
  ): Promise<ImportRun> {
    await this.db.query(
      `UPDATE imports SET status = $2, rows_read = $3, rows_stored = $4, rows_rejected = $5, error = $6, finished_at = $7
       WHERE id = $1`,
      [
        id,
        result.status,
        result.rowsRead,
        result.rowsStored,
        result.rowsRejected,
        result.error ?? null,
        new Date(),
      ],
    );
    return this.get(id);
  }

  async get(id: string): Promise<ImportRun> {
    const rows = await this.db.query('SELECT * FROM imports WHERE id = $1', [id]);
    if (!rows[0]) throw new Error(`import ${id} not found`);
    return toRun(rows[0]);
  }

  /** Earlier attempts to import the same content into the same source, newest first. */
  async findByContent(sourceId: string, fileSha256: string): Promise<ImportRun[]> {
    const rows = await this.db.query(
      'SELECT * FROM imports WHERE source_id = $1 AND file_sha256 = $2 ORDER BY started_at DESC',
      [sourceId, fileSha256],
    );
    return rows.map(toRun);
  }

  async list(sourceId: string, limit = 50): Promise<ImportRun[]> {
    const rows = await this.db.query(
      'SELECT * FROM imports WHERE source_id = $1 ORDER BY started_at DESC LIMIT $2',
      [sourceId, limit],
    );
    return rows.map(toRun);
  }

  async delete(id: string): Promise<void> {
    await this.db.query('DELETE FROM imports WHERE id = $1', [id]);
  }
}
