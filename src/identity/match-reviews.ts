import type { Store } from '../store/index.js';

/** A pair of records just below the match threshold, for a person to decide. */
export interface MatchReview {
  seq: number;
  weight: number;
  probability: number;
  /** How each compared field moved the weight. */
  fields: { field: string; level: string; weight: number }[];
  left: ReviewedRecord;
  right: ReviewedRecord;
}

interface ReviewedRecord {
  source: string;
  recordId: string;
  profileId: string;
  attributes: Record<string, unknown>;
}

/** The pairs waiting for review, strongest first. */
export async function matchReviews(store: Store, limit: number): Promise<MatchReview[]> {
  const pairs = await store.matches.matches(['review'], { limit, strongestFirst: true });
  const records = await store.matches.recordsWithProfiles(
    pairs.flatMap((p) => [p.leftRecord, p.rightRecord]),
  );
  const names = new Map((await store.sources.list()).map((s) => [s.id, s.name]));
  const describe = (seq: number): ReviewedRecord => {
    const r = records.get(seq)!;
    return {
      source: names.get(r.sourceId) ?? r.sourceId,
      recordId: r.recordId,
      profileId: r.profileId,
      attributes: r.attributes,
    };
  };
  return pairs.map((p) => ({
    seq: p.seq,
    weight: p.weight,
    probability: p.probability,
    fields: p.fields,
    left: describe(p.leftRecord),
    right: describe(p.rightRecord),
  }));
}
