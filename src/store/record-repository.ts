import { type ConsentStatement, consentOfRecord } from '../core/index.js';
import { CONSENT_COLUMNS, recordConsentRows } from './consent-repository.js';
import { type Database, retireSeqs, type SqlValue } from './database.js';
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
    // `consent_<purpose>` attributes become consent statements, in the same transaction.
    let consent: ConsentStatement[][] | undefined;
    for (let i = 0; i < records.length; i++) {
      const stated = consentOfRecord(records[i]!.attributes, records[i]!.receivedAt);
      if (stated.length === 0) continue;
      consent ??= [];
      consent[i] = stated;
    }
    if (consent === undefined) {
      await this.db.appendSequenced('profile_records', COLUMNS, records.length, rowsFrom);
      return;
    }
    const sourceIds = records.map((r) => r.sourceId);
    await this.db.writeSequenced('profile_records', async (tx, reserve) => {
      const first = await reserve(records.length);
      await tx.bulkInsert('profile_records', COLUMNS, rowsFrom(first));
      await tx.bulkInsert(
        'consent_statements',
        CONSENT_COLUMNS,
        recordConsentRows(sourceIds, consent, first),
      );
    });
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
    await this.db.query(
      `DELETE FROM consent_statements WHERE ref_kind = 'record'
       AND ref_seq IN (SELECT seq FROM profile_records WHERE import_id = $1)`,
      [importId],
    );
    await retireSeqs(this.db, 'profile_records');
    await this.db.query('DELETE FROM profile_records WHERE import_id = $1', [importId]);
  }
}
