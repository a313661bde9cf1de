import type { Database } from './database.js';
import { placeholders, readJson } from './dialect.js';

export type MatchStatus = 'merged' | 'refused' | 'review';

/** A probabilistic match between two profile records. */
export interface MatchRow {
  seq: number;
  leftRecord: number;
  rightRecord: number;
  weight: number;
  probability: number;
  status: MatchStatus;
  fields: { field: string; level: string; weight: number }[];
  matchedAt: Date;
}

/** A profile record as probabilistic matching reads it, with the identifier it belongs by. */
export interface MatchableRecord {
  seq: number;
  sourceId: string;
  recordId: string;
  identifiers: Record<string, string[]>;
  attributes: Record<string, unknown>;
  anchor: number;
}

/** Probabilistic matches between profile records, and the records matching reads. */
export class MatchRepository {
  constructor(private readonly db: Database) {}

  /** The profile records of these sources with their anchor identifiers, in arrival order. */
  async matchableRecords(sourceIds: readonly string[]): Promise<MatchableRecord[]> {
    if (sourceIds.length === 0) return [];
    const list = placeholders(sourceIds.length);
    const rows = await this.db.query(
      `SELECT r.seq, r.source_id, r.record_id, r.identifiers, r.attributes, a.identifier_id
       FROM profile_records r JOIN record_anchors a ON a.record_seq = r.seq
       WHERE r.source_id IN (${list}) ORDER BY r.seq`,
      sourceIds as string[],
    );
    return rows.map((r) => ({
      seq: r.seq as number,
      sourceId: r.source_id as string,
      recordId: r.record_id as string,
      identifiers: readJson(r.identifiers) as Record<string, string[]>,
      attributes: readJson(r.attributes),
      anchor: r.identifier_id as number,
    }));
  }

  /** Stored matches of the given statuses, in the order they were made (or strongest first). */
  async matches(
    statuses: readonly MatchStatus[],
    options: { limit?: number; strongestFirst?: boolean } = {},
  ): Promise<(MatchRow & { leftSource: string })[]> {
    const list = placeholders(statuses.length, 2);
    const rows = await this.db.query(
      `SELECT m.*, l.source_id AS left_source
       FROM identity_matches m JOIN profile_records l ON l.seq = m.left_record
       WHERE m.status IN (${list}) ORDER BY ${options.strongestFirst ? 'm.weight DESC, m.seq' : 'm.seq'} LIMIT $1`,
      [options.limit ?? 1_000_000_000, ...statuses],
    );
    return rows.map((r) => ({
      seq: r.seq as number,
      leftRecord: r.left_record as number,
      rightRecord: r.right_record as number,
      weight: r.weight as number,
      probability: r.probability as number,
      status: r.status as MatchStatus,
      fields: readJson(r.fields) as unknown as MatchRow['fields'],
      matchedAt: r.matched_at as Date,
      leftSource: r.left_source as string,
    }));
  }

  /** Profile records by seq, with the profile each belongs to now. */
  async recordsWithProfiles(
    seqs: readonly number[],
  ): Promise<
    Map<
      number,
      { sourceId: string; recordId: string; attributes: Record<string, unknown>; profileId: string }
    >
  > {
    if (seqs.length === 0) return new Map();
    const rows = await this.db.query(
      `SELECT r.seq, r.source_id, r.record_id, r.attributes, i.profile_id
       FROM profile_records r JOIN record_anchors a ON a.record_seq = r.seq JOIN identifiers i ON i.id = a.identifier_id
       WHERE r.seq IN (${seqs.map((n) => Number(n)).join(',')})`,
    );
    return new Map(
      rows.map((r) => [
        r.seq as number,
        {
          sourceId: r.source_id as string,
          recordId: r.record_id as string,
          attributes: readJson(r.attributes),
          profileId: r.profile_id as string,
        },
      ]),
    );
  }

  async lastMatchSeq(): Promise<number> {
    const rows = await this.db.query<{ n: number | null }>('SELECT max(seq) AS n FROM identity_matches');
    return rows[0]?.n ?? 0;
  }
}
