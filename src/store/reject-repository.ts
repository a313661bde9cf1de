import { type Database, retireSeqs, type SqlValue } from './database.js';

/** Input that could not be used, kept with where it was and why. */
export interface Reject {
  sourceId: string;
  importId: string | null;
  /** 1-based row (line) number in an imported file; the index in a batch request otherwise. */
  rowNumber: number | null;
  messageId: string | null;
  reason: string;
  /** Field path of the first problem, dot-separated (e.g. `batch.3.event`). */
  path: string | null;
  /** The offending input, truncated. */
  payload: string | null;
  receivedAt: Date;
}

const COLUMNS = [
  'seq',
  'source_id',
  'import_id',
  'row_number',
  'message_id',
  'reason',
  'path',
  'payload',
  'received_at',
] as const;
const MAX_PAYLOAD_CHARS = 4096;

export class RejectRepository {
  constructor(private readonly db: Database) {}

  async append(rejects: readonly Reject[]): Promise<void> {
    if (rejects.length === 0) return;
    const rowsFrom = (first: number) =>
      rejects.map((r, i): SqlValue[] => [
        first + i,
        r.sourceId,
        r.importId,
        r.rowNumber,
        r.messageId,
        r.reason,
        r.path,
        r.payload === null ? null : r.payload.slice(0, MAX_PAYLOAD_CHARS),
        r.receivedAt,
      ]);
    await this.db.appendSequenced('rejects', COLUMNS, rejects.length, rowsFrom);
  }

  /** The newest rejects of a source first, optionally of one import. */
  async list(
    sourceId: string,
    opts: { limit: number; importId?: string | undefined; beforeSeq?: number | undefined },
  ): Promise<(Reject & { seq: number })[]> {
    const params: SqlValue[] = [sourceId, opts.beforeSeq ?? Number.MAX_SAFE_INTEGER, opts.limit];
    let filter = '';
    if (opts.importId) {
      params.push(opts.importId);
      filter = 'AND import_id = $4';
    }
    const rows = await this.db.query(
      `SELECT * FROM rejects WHERE source_id = $1 AND seq < $2 ${filter} ORDER BY seq DESC LIMIT $3`,
      params,
    );
    return rows.map((r) => ({
      seq: r.seq as number,
      sourceId: r.source_id as string,
      importId: r.import_id as string | null,
      rowNumber: r.row_number as number | null,
      messageId: r.message_id as string | null,
      reason: r.reason as string,
      path: r.path as string | null,
      payload: r.payload as string | null,
      receivedAt: r.received_at as Date,
    }));
  }

  async deleteImport(importId: string): Promise<void> {
    await retireSeqs(this.db, 'rejects');
    await this.db.query('DELETE FROM rejects WHERE import_id = $1', [importId]);
  }
}
