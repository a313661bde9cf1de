import type { IdentityConfig } from '../core/index.js';
import { UserError } from '../core/index.js';
import type { AuditEntry, MatchableRecord, MatchRow, MatchStatus, Store } from '../store/index.js';
import type { IdentityGraph, ObservationRef } from './identity-graph.js';
import { auditEntry } from './identity-pass.js';
import type { IdentifierNormalizer } from './normalize-identifier.js';
import {
  type MatchRecord,
  matchRecords,
  prepareRecords,
  type ScoredPair,
  trainModel,
} from './probabilistic/index.js';

export interface MatchingSummary {
  records: number;
  candidatePairs: number;
  matches: number;
  merged: number;
  refused: number;
  review: number;
}

export interface MatchingPass {
  summary: MatchingSummary;
  matches: MatchRow[];
  audit: AuditEntry[];
  /** Founding identifiers of profiles merged into others. */
  merged: { founder: number; at: Date }[];
  touched: number[];
  auditSeq: number;
}

/**
 * Probabilistic matching of profile records that share no key: trains the rule set's
 * Fellegi-Sunter model on the records themselves, then links the anchors of every pair above the
 * threshold through the graph, so the guardrails apply as to any link. Pairs just below it are
 * kept for review.
 */
export async function runMatchingPass(
  store: Store,
  graph: IdentityGraph,
  normalizer: IdentifierNormalizer,
  config: IdentityConfig,
  profileIdOf: (founder: number) => string,
  auditSeq: number,
): Promise<MatchingPass> {
  const settings = config.probabilistic;
  if (!settings) {
    throw new UserError(
      'matching_not_configured',
      'no probabilistic rule set: set `probabilistic` in the identity config',
      [{ code: 'missing', path: ['probabilistic'], message: 'required to match' }],
    );
  }
  const sources = (await store.sources.list()).filter(
    (s) => s.kind === 'profiles' && (settings.sources.length === 0 || settings.sources.includes(s.name)),
  );
  const unknown = settings.sources.filter((name) => !sources.some((s) => s.name === name));
  if (unknown.length > 0) {
    throw new UserError(
      'unknown_source',
      `probabilistic.sources names no profile source ${unknown.join(', ')}`,
    );
  }
  const records = await store.matches.matchableRecords(sources.map((s) => s.id));
  const bySeq = new Map(records.map((r) => [String(r.seq), r]));
  // Encoded once for training and matching.
  const prepared = prepareRecords(
    records.map((r) => toMatchRecord(r, normalizer)),
    settings.rules,
  );
  const result = matchRecords(prepared, trainModel(prepared, settings.rules));

  let seq = await store.matches.lastMatchSeq();
  const now = new Date();
  const pass: MatchingPass = {
    summary: {
      records: records.length,
      candidatePairs: result.stats.candidatePairs,
      matches: result.matches.length,
      merged: 0,
      refused: 0,
      review: result.review.length,
    },
    matches: [],
    audit: [],
    merged: [],
    touched: [],
    auditSeq,
  };
  const row = (pair: ScoredPair, status: MatchStatus): MatchRow => ({
    seq: ++seq,
    leftRecord: Number(pair.leftId),
    rightRecord: Number(pair.rightId),
    weight: pair.weight,
    probability: pair.probability,
    status,
    fields: pair.fields,
    matchedAt: now,
  });
  for (const pair of result.matches) {
    const left = bySeq.get(pair.leftId)!;
    const right = bySeq.get(pair.rightId)!;
    const match = row(pair, 'merged');
    const ref: ObservationRef = { kind: 'match', seq: match.seq, sourceId: left.sourceId, at: now };
    const { changes } = graph.link([left.anchor, right.anchor], [], ref);
    if (changes.some((c) => c.kind === 'refusal')) match.status = 'refused';
    for (const change of changes) {
      pass.audit.push(auditEntry(change, ++pass.auditSeq, graph, config, profileIdOf));
      if (change.kind === 'merge') pass.merged.push({ founder: change.merged, at: now });
    }
    pass.touched.push(left.anchor, right.anchor);
    if (match.status === 'merged') pass.summary.merged++;
    else pass.summary.refused++;
    pass.matches.push(match);
  }
  for (const pair of result.review) pass.matches.push(row(pair, 'review'));
  return pass;
}

/**
 * Replays the stored probabilistic links (merged and refused alike, in the order they were made)
 * after a rebuild's deterministic pass. `anchorOf` gives each record's identifier in the rebuilt
 * graph: the stored anchors belong to the graph being replaced, whose ids may differ.
 */
export async function replayMatches(
  store: Store,
  graph: IdentityGraph,
  config: IdentityConfig,
  profileIdOf: (founder: number) => string,
  auditSeq: number,
  anchorOf: ReadonlyMap<number, number>,
): Promise<{ audit: AuditEntry[]; merged: { founder: number; at: Date }[]; auditSeq: number }> {
  const audit: AuditEntry[] = [];
  const merged: { founder: number; at: Date }[] = [];
  let seq = auditSeq;
  for (const m of await store.matches.matches(['merged', 'refused'])) {
    const left = anchorOf.get(m.leftRecord);
    const right = anchorOf.get(m.rightRecord);
    // A record with no usable identifier any more (a value now blocked) links nothing.
    if (left === undefined || right === undefined) continue;
    const ref: ObservationRef = { kind: 'match', seq: m.seq, sourceId: m.leftSource, at: m.matchedAt };
    for (const change of graph.link([left, right], [], ref).changes) {
      audit.push(auditEntry(change, ++seq, graph, config, profileIdOf));
      if (change.kind === 'merge') merged.push({ founder: change.merged, at: m.matchedAt });
    }
  }
  return { audit, merged, auditSeq: seq };
}

/** A record's attributes and (normalized) identifiers, as the fields a rule set compares. */
function toMatchRecord(r: MatchableRecord, normalizer: IdentifierNormalizer): MatchRecord {
  const fields: Record<string, string | number | null> = {};
  for (const [name, value] of Object.entries(r.attributes)) {
    if (typeof value === 'string' || typeof value === 'number') fields[name] = value;
    else if (typeof value === 'boolean') fields[name] = String(value);
  }
  for (const [namespace, values] of Object.entries(r.identifiers)) {
    const first = (Array.isArray(values) ? values : [values])[0];
    const n = first === undefined ? undefined : normalizer.normalize(namespace, first);
    if (n?.ok) fields[namespace] = n.value;
  }
  return { id: String(r.seq), fields };
}
