import type { Database, SqlValue } from './database.js';
import { readJson } from './dialect.js';
import { storableJson } from './storable-text.js';

/** A profile record as received from a profile source: raw identifier values and typed attributes. */
export interface ProfileRecord {
  recordId: string;
  sourceId: string;
  importId: string | null;
  rowNumber: number | null;
  /** Namespace → the values found (not yet normalized: identity does that). */
  identifiers: Record<string, string[]>;
  attributes: Record<string, unknown>;
  receivedAt: Date;
}

const COLUMNS = [
  'seq',
  'record_id',
  'source_id',
  'import_id',
  'row_number',
  'identifiers',
  'attributes',
  'received_at',
] as const;

/** Profile records as received, before identity resolution. */
export class RecordRepository {
  constructor(private readonly db: Database) {}

  async append(records: readonly ProfileRecord[]): Promise<void> {
    if (records.length === 0) return;
    const rowsFrom = (first: number) =>
      records.map((r, i): SqlValue[] => [
        first + i,
        r.recordId,
        r.sourceId,
        r.importId,
        r.rowNumber,
        storableJson(r.identifiers),
        storableJson(r.attributes),
        r.receivedAt,
      ]);
    await this.db.appendSequenced('profile_records', COLUMNS, records.length, rowsFrom);
  }

  async list(sourceId: string, limit: number, afterSeq = 0): Promise<(ProfileRecord & { seq: number })[]> {
    const rows = await this.db.query(
      'SELECT * FROM profile_records WHERE source_id = $1 AND seq > $2 ORDER BY seq LIMIT $3',
      [sourceId, afterSeq, limit],
    );
    return rows.map((r) => ({
      seq: r.seq as number,
      recordId: r.record_id as string,
      sourceId: r.source_id as string,
      importId: r.import_id as string | null,
      rowNumber: r.row_number as number | null,
      identifiers: readJson(r.identifiers) as Record<string, string[]>,
      attributes: readJson(r.attributes),
      receivedAt: r.received_at as Date,
    }));
  }

  async deleteImport(importId: string): Promise<void> {
    await this.db.query('DELETE FROM profile_records WHERE import_id = $1', [importId]);
  }
}
