import { assertNever, type IdentityConfig } from '../core/index.js';
import type {
  AuditEntry,
  EventIdentityRow,
  IdentifierRow,
  IdentityChanges,
  ProfileAlias,
  RecordIdentityRow,
  Store,
} from '../store/index.js';
import type { GraphChange, IdentityGraph } from './identity-graph.js';
import type { IdentifierNormalizer } from './normalize-identifier.js';
import { eventObservation, type Observation, recordObservation } from './observations.js';

export interface PassCursors {
  events: number;
  records: number;
  auditSeq: number;
}

export interface PassResult {
  changes: IdentityChanges;
  cursors: PassCursors;
  observations: number;
  merges: number;
  refusals: number;
  flagged: number;
  unusable: number;
  /** Profiles whose events, records or identifiers this pass changed. */
  touchedProfiles: string[];
  /** Of those, the ones whose attributes may have changed: a record, an identify call, a merge. */
  attributeProfiles: string[];
}

const PAGE = 20_000;

/**
 * Reads the events and profile records stored after `cursors`, in arrival order (received time,
 * records before events at the same time, then seq), stitches each into `graph`, and returns what
 * to write. The same data in the same order always gives the same graph, which is what makes a
 * rebuild reproduce the incremental result.
 */
export async function runIdentityPass(
  store: Store,
  graph: IdentityGraph,
  normalizer: IdentifierNormalizer,
  config: IdentityConfig,
  profileIdOf: (identifierId: number) => string,
  start: PassCursors,
  /** Events just stored, with consecutive seqs from `start.events + 1`: read from memory, not the store. */
  fresh: readonly EventIdentityRow[] = [],
): Promise<PassResult> {
  const cursors = { ...start };
  const created: number[] = [];
  const firstRef = new Map<number, Observation['ref']>();
  const anchors: IdentityChanges['anchors'] = [];
  /** The identifiers this pass's events and records belong by, for the profiles it touched. */
  const touchedIds: number[] = [];
  /** Of those, the ones that belong by a record or an identify call (which carry attributes). */
  const attributeIds: number[] = [];
  const audit: AuditEntry[] = [];
  const merged: { founder: number; at: Date }[] = [];
  const sharedIds: number[] = [];
  const result = { observations: 0, merges: 0, refusals: 0, flagged: 0, unusable: 0 };
  const isKnownUserId = (value: string) => graph.idOf('user_id', value) !== undefined;

  // The pass covers what was stored when it began; what arrives meanwhile goes to the next one.
  const end = await store.identity.highestSeqs();
  const inMemory = fresh.length > 0 && fresh[0]!.seq === start.events + 1 ? fresh : [];
  const events = new PagedReader<EventIdentityRow>(
    (after) => store.identity.eventPage(after, Math.min(PAGE, end.events - after)),
    start.events,
    end.events,
    inMemory.filter((e) => e.seq <= end.events),
  );
  const records = new PagedReader<RecordIdentityRow>(
    (after) => store.identity.recordPage(after, Math.min(PAGE, end.records - after)),
    start.records,
    end.records,
  );
  for (;;) {
    const e = await events.peek();
    const r = await records.peek();
    if (!e && !r) break;
    const takeRecord =
      r !== undefined && (e === undefined || r.received_at.getTime() <= e.received_at.getTime());
    const event = takeRecord ? undefined : events.take();
    const observation = event
      ? eventObservation(event, normalizer, isKnownUserId)
      : recordObservation(records.take(), normalizer);
    if (takeRecord) cursors.records = observation.ref.seq;
    else cursors.events = observation.ref.seq;
    result.observations++;
    result.unusable += observation.unusable;
    if (observation.identifiers.length === 0) continue;

    const stitched = graph.stitch(observation.identifiers, observation.ref);
    for (const id of stitched.created) {
      created.push(id);
      firstRef.set(id, observation.ref);
    }
    if (stitched.anchor !== undefined) {
      touchedIds.push(stitched.anchor);
      if (event === undefined || event.type === 'identify') attributeIds.push(stitched.anchor);
      if (takeRecord) anchors.push({ recordSeq: observation.ref.seq, identifierId: stitched.anchor });
    }
    for (const change of stitched.changes) {
      audit.push(auditEntry(change, ++cursors.auditSeq, graph, config, profileIdOf));
      switch (change.kind) {
        case 'merge':
          result.merges++;
          merged.push({ founder: change.merged, at: change.ref.at });
          break;
        case 'refusal':
          result.refusals++;
          break;
        case 'flagged':
          result.flagged++;
          sharedIds.push(change.identifier);
          break;
        default:
          assertNever(change);
      }
    }
  }

  // Profile ids are settled at the end of the pass: a profile may have merged twice within it.
  const finalProfile = (id: number) => profileIdOf(graph.founderOf(id));
  const identifiers: IdentifierRow[] = created.map((id) => {
    const ref = firstRef.get(id)!;
    const { namespace, value } = graph.identifier(id);
    return {
      id,
      namespace,
      value,
      profileId: finalProfile(id),
      shared: graph.isFlagged(id),
      firstSeenAt: ref.at,
      firstRefKind: ref.kind,
      firstRefSeq: ref.seq,
      firstSourceId: ref.sourceId,
    };
  });
  const aliases = aliasesOf(merged, graph, profileIdOf);
  const createdNow = new Set(created);
  const touched = new Set(touchedIds.map(finalProfile));
  const withAttributes = new Set(attributeIds.map(finalProfile));
  for (const a of aliases) {
    for (const set of [touched, withAttributes]) {
      set.add(a.profileId);
      set.add(a.aliasId);
    }
  }
  return {
    ...result,
    touchedProfiles: [...touched],
    attributeProfiles: [...withAttributes],
    cursors,
    changes: {
      identifiers,
      moves: aliases.map((a) => ({ oldId: a.aliasId, newId: a.profileId })),
      aliases,
      anchors,
      keys: graph.drainKeys(),
      audit,
      sharedIds: sharedIds.filter((id) => !createdNow.has(id)),
      state: {
        cursor_events: String(cursors.events),
        cursor_records: String(cursors.records),
        audit_seq: String(cursors.auditSeq),
      },
    },
  };
}

/** The audit line of one graph change, with profile ids as they are at the time of the change. */
export function auditEntry(
  change: GraphChange,
  seq: number,
  graph: IdentityGraph,
  config: IdentityConfig,
  profileIdOf: (identifierId: number) => string,
): AuditEntry {
  const ref = {
    at: change.ref.at,
    refKind: change.ref.kind,
    refSeq: change.ref.seq,
    sourceId: change.ref.sourceId,
  };
  switch (change.kind) {
    case 'merge': {
      const via = graph.identifier(change.via);
      return {
        seq,
        kind: 'merge',
        profileId: profileIdOf(change.kept),
        otherProfileId: profileIdOf(change.merged),
        ...via,
        reason: `${via.namespace}:${via.value} links both profiles; the older id is kept`,
        ...ref,
      };
    }
    case 'refusal': {
      const via = graph.identifier(change.via);
      return {
        seq,
        kind: 'refusal',
        profileId: profileIdOf(change.profile),
        otherProfileId: profileIdOf(change.other),
        ...via,
        reason: `merging through ${via.namespace}:${via.value} would give one profile more than ${change.limit} ${change.namespace} identifier${change.limit === 1 ? '' : 's'}`,
        ...ref,
      };
    }
    case 'flagged': {
      const id = graph.identifier(change.identifier);
      return {
        seq,
        kind: 'flagged',
        profileId: profileIdOf(graph.founderOf(change.identifier)),
        otherProfileId: null,
        ...id,
        reason: `${id.namespace}:${id.value} is on the records of ${change.profiles} distinct profiles (more than ${config.maxSharedBy}): flagged as shared and no longer used to merge`,
        ...ref,
      };
    }
    default:
      return assertNever(change);
  }
}

/** The aliases left by merges: each merged profile's id now resolves to its founder's final profile. */
export function aliasesOf(
  merged: readonly { founder: number; at: Date }[],
  graph: IdentityGraph,
  profileIdOf: (identifierId: number) => string,
): ProfileAlias[] {
  return merged.map(({ founder, at }) => {
    const { namespace, value } = graph.identifier(founder);
    return {
      aliasId: profileIdOf(founder),
      profileId: profileIdOf(graph.founderOf(founder)),
      founderNamespace: namespace,
      founderValue: value,
      mergedAt: at,
    };
  });
}

/** Reads the rows of a table with `after < seq <= last` range by range, one row at a time. */
class PagedReader<T extends { seq: number }> {
  private rows: T[] = [];
  private index = 0;

  constructor(
    private readonly fetchRange: (afterSeq: number) => Promise<T[]>,
    private after: number,
    private readonly last: number,
    /** Rows already at hand that continue from `after` without a gap. */
    ready: readonly T[] = [],
  ) {
    if (ready.length > 0) {
      this.rows = [...ready];
      this.after = ready[ready.length - 1]!.seq;
    }
  }

  async peek(): Promise<T | undefined> {
    // A range may be empty (a gap in the sequence): read on until the last seq.
    while (this.index >= this.rows.length) {
      if (this.after >= this.last) return undefined;
      const from = this.after;
      this.rows = await this.fetchRange(from);
      this.index = 0;
      this.after = from + Math.min(PAGE, this.last - from);
    }
    return this.rows[this.index];
  }

  take(): T {
    return this.rows[this.index++]!;
  }
}
