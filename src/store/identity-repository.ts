import type { Database, SqlValue } from './database.js';
import { placeholders, readJson } from './dialect.js';
import type { MatchRow } from './match-repository.js';

/** An identifier as stored, with the profile it belongs to and what first brought it. */
export interface IdentifierRow {
  id: number;
  namespace: string;
  value: string;
  profileId: string;
  /** Seen with the keys of too many distinct profiles: kept, but never used to merge. */
  shared: boolean;
  firstSeenAt: Date;
  firstRefKind: 'event' | 'record' | 'match';
  firstRefSeq: number;
  firstSourceId: string;
}

export type AuditKind = 'merge' | 'refusal' | 'flagged';

/** One line of the merge audit: a merge, a refused merge, or an identifier flagged as shared. */
export interface AuditEntry {
  seq: number;
  at: Date;
  kind: AuditKind;
  profileId: string;
  otherProfileId: string | null;
  namespace: string | null;
  value: string | null;
  reason: string;
  refKind: 'event' | 'record' | 'match';
  refSeq: number;
  sourceId: string;
}

export interface ProfileAlias {
  aliasId: string;
  profileId: string;
  founderNamespace: string;
  founderValue: string;
  mergedAt: Date;
}

/** What one stitching pass writes, atomically with the cursors it advanced. */
export interface IdentityChanges {
  identifiers: IdentifierRow[];
  /** Profiles merged into others: every identifier of `oldId` now belongs to `newId`. */
  moves: { oldId: string; newId: string }[];
  aliases: ProfileAlias[];
  /** The identifier each new profile record belongs by. */
  anchors: { recordSeq: number; identifierId: number }[];
  /** New (identifier, person key) pairs, flat: `[identifier, key, identifier, key, ...]`. */
  keys?: ArrayLike<number>;
  audit: AuditEntry[];
  sharedIds: number[];
  state: Record<string, string>;
  /** Probabilistic matches to record; with `replaceReviews`, earlier pairs waiting for review go. */
  matches?: MatchRow[];
  replaceReviews?: boolean;
}

/** The raw identifying fields of an event, as the identity graph reads them. */
export interface EventIdentityRow {
  seq: number;
  source_id: string;
  received_at: Date;
  type: string;
  user_id: string | null;
  anonymous_id: string | null;
  previous_id: string | null;
  context_email: string | null;
  context_phone: string | null;
  traits_email: string | null;
  traits_phone: string | null;
  device_id: string | null;
}

export interface RecordIdentityRow {
  seq: number;
  source_id: string;
  received_at: Date;
  identifiers: Record<string, string[]>;
}

const IDENTIFIER_COLUMNS = [
  'id',
  'namespace',
  'value',
  'profile_id',
  'shared',
  'first_seen_at',
  'first_ref_kind',
  'first_ref_seq',
  'first_source_id',
];
const AUDIT_COLUMNS = [
  'seq',
  'occurred_at',
  'kind',
  'profile_id',
  'other_profile_id',
  'namespace',
  'value',
  'reason',
  'ref_kind',
  'ref_seq',
  'source_id',
];
const ALIAS_COLUMNS = ['alias_id', 'profile_id', 'founder_namespace', 'founder_value', 'merged_at'];

/** The identity graph's tables: identifiers with their profiles, aliases, record anchors and the audit. */
export class IdentityRepository {
  constructor(private readonly db: Database) {}

  async state(): Promise<Record<string, string>> {
    const rows = await this.db.query<{ name: string; value: string }>(
      'SELECT name, value FROM identity_state',
    );
    return Object.fromEntries(rows.map((r) => [r.name, r.value]));
  }

  /** Every stored identifier in id order, page by page. */
  async loadIdentifiers(onPage: (rows: IdentifierRow[]) => void, pageSize = 200_000): Promise<void> {
    for (let after = -1; ; ) {
      const rows = await this.db.query('SELECT * FROM identifiers WHERE id > $1 ORDER BY id LIMIT $2', [
        after,
        pageSize,
      ]);
      if (rows.length === 0) return;
      onPage(rows.map(toIdentifier));
      after = rows[rows.length - 1]!.id as number;
    }
  }

  /** The highest `seq` of events and of profile records stored so far. */
  async highestSeqs(): Promise<{ events: number; records: number }> {
    const rows = await this.db.query<{ events: number | null; records: number | null }>(
      'SELECT (SELECT max(seq) FROM events) AS events, (SELECT max(seq) FROM profile_records) AS records',
    );
    return { events: rows[0]?.events ?? 0, records: rows[0]?.records ?? 0 };
  }

  /** Every stored (identifier, person key) pair, page by page. */
  async loadKeys(onPage: (pairs: { identifier_id: number; key_id: number }[]) => void): Promise<void> {
    for (let offset = 0; ; offset += 200_000) {
      const rows = await this.db.query<{ identifier_id: number; key_id: number }>(
        'SELECT identifier_id, key_id FROM identifier_keys ORDER BY identifier_id, key_id LIMIT 200000 OFFSET $1',
        [offset],
      );
      if (rows.length === 0) return;
      onPage(rows);
    }
  }

  /**
   * Events with `afterSeq < seq <= afterSeq + span`, with the fields that carry identifiers. Paging
   * by range, not `LIMIT`, keeps each page one range scan on DuckDB, which has no index on `seq`.
   */
  eventPage(afterSeq: number, span: number): Promise<EventIdentityRow[]> {
    const j = (path: string[]) => this.db.dialect.jsonText(path[0]!, path.slice(1));
    return this.db.query<EventIdentityRow & Record<string, unknown>>(
      `SELECT seq, source_id, received_at, type, user_id, anonymous_id, previous_id,
         ${j(['context', 'traits', 'email'])} AS context_email, ${j(['context', 'traits', 'phone'])} AS context_phone,
         ${j(['traits', 'email'])} AS traits_email, ${j(['traits', 'phone'])} AS traits_phone,
         ${j(['context', 'device', 'id'])} AS device_id
       FROM events WHERE seq > $1 AND seq <= $2 ORDER BY seq`,
      [afterSeq, afterSeq + span],
    );
  }

  /** Profile records with `afterSeq < seq <= afterSeq + span`. */
  async recordPage(afterSeq: number, span: number): Promise<RecordIdentityRow[]> {
    const rows = await this.db.query(
      'SELECT seq, source_id, received_at, identifiers FROM profile_records WHERE seq > $1 AND seq <= $2 ORDER BY seq',
      [afterSeq, afterSeq + span],
    );
    return rows.map((r) => ({
      seq: r.seq as number,
      source_id: r.source_id as string,
      received_at: r.received_at as Date,
      identifiers: readJson(r.identifiers) as Record<string, string[]>,
    }));
  }

  /** Writes one stitching pass in one transaction, so a crash leaves the graph as it was before. */
  async apply(changes: IdentityChanges, options: { replace?: boolean } = {}): Promise<void> {
    await this.db.transaction(async (tx) => {
      if (options.replace) {
        for (const table of [
          'identifiers',
          'record_anchors',
          'identifier_keys',
          'identity_audit',
          'profile_aliases',
        ]) {
          await tx.query(`DELETE FROM ${table}`);
        }
      }
      await tx.bulkInsert('identifiers', IDENTIFIER_COLUMNS, changes.identifiers.map(identifierValues));
      if (changes.moves.length > 0) {
        await tx.query('DELETE FROM identity_profile_moves');
        await tx.bulkInsert(
          'identity_profile_moves',
          ['old_id', 'new_id'],
          changes.moves.map((m) => [m.oldId, m.newId]),
        );
        await tx.query(
          'UPDATE identifiers SET profile_id = m.new_id FROM identity_profile_moves m WHERE identifiers.profile_id = m.old_id',
        );
        await tx.query(
          'UPDATE profile_aliases SET profile_id = m.new_id FROM identity_profile_moves m WHERE profile_aliases.profile_id = m.old_id',
        );
      }
      if (changes.aliases.length > 0) {
        await tx.bulkInsert(
          'profile_aliases',
          ALIAS_COLUMNS,
          changes.aliases.map((a) => [
            a.aliasId,
            a.profileId,
            a.founderNamespace,
            a.founderValue,
            a.mergedAt,
          ]),
        );
      }
      if (changes.sharedIds.length > 0) {
        const ids = placeholders(changes.sharedIds.length);
        await tx.query(`UPDATE identifiers SET shared = TRUE WHERE id IN (${ids})`, changes.sharedIds);
      }
      const keys = changes.keys ?? [];
      await tx.bulkInsert(
        'identifier_keys',
        ['identifier_id', 'key_id'],
        Array.from({ length: keys.length / 2 }, (_, i) => [keys[2 * i]!, keys[2 * i + 1]!]),
      );
      await tx.bulkInsert(
        'record_anchors',
        ['record_seq', 'identifier_id'],
        changes.anchors.map((a) => [a.recordSeq, a.identifierId]),
      );
      await tx.bulkInsert('identity_audit', AUDIT_COLUMNS, changes.audit.map(auditValues));
      if (changes.replaceReviews) await tx.query("DELETE FROM identity_matches WHERE status = 'review'");
      await tx.bulkInsert(
        'identity_matches',
        ['seq', 'left_record', 'right_record', 'weight', 'probability', 'status', 'fields', 'matched_at'],
        (changes.matches ?? []).map((m) => [
          m.seq,
          m.leftRecord,
          m.rightRecord,
          m.weight,
          m.probability,
          m.status,
          JSON.stringify(m.fields),
          m.matchedAt,
        ]),
      );
      const state = Object.entries(changes.state);
      if (state.length > 0) {
        await tx.query(
          `INSERT INTO identity_state (name, value) VALUES ${state.map((_, i) => `($${2 * i + 1}, $${2 * i + 2})`).join(', ')}
           ON CONFLICT (name) DO UPDATE SET value = excluded.value`,
          state.flat(),
        );
      }
    });
  }

  async aliases(): Promise<ProfileAlias[]> {
    const rows = await this.db.query('SELECT * FROM profile_aliases');
    return rows.map((r) => ({
      aliasId: r.alias_id as string,
      profileId: r.profile_id as string,
      founderNamespace: r.founder_namespace as string,
      founderValue: r.founder_value as string,
      mergedAt: r.merged_at as Date,
    }));
  }

  /** The ids merged into a profile. */
  async aliasesOf(profileId: string): Promise<string[]> {
    const rows = await this.db.query<{ alias_id: string }>(
      'SELECT alias_id FROM profile_aliases WHERE profile_id = $1 ORDER BY merged_at',
      [profileId],
    );
    return rows.map((r) => r.alias_id);
  }

  /** The profile's computed trait values. */
  async traitsOf(profileId: string): Promise<Record<string, unknown>> {
    const rows = await this.db.query<{ name: string; value: string | null }>(
      'SELECT name, value FROM profile_traits WHERE profile_id = $1 ORDER BY name',
      [profileId],
    );
    return Object.fromEntries(rows.map((r) => [r.name, r.value === null ? null : JSON.parse(r.value)]));
  }

  /** The profile an id names: itself, or the profile an alias was merged into. */
  async resolveProfileId(id: string): Promise<string | undefined> {
    const direct = await this.db.query('SELECT 1 FROM identifiers WHERE profile_id = $1 LIMIT 1', [id]);
    if (direct.length > 0) return id;
    const alias = await this.db.query<{ profile_id: string }>(
      'SELECT profile_id FROM profile_aliases WHERE alias_id = $1 LIMIT 1',
      [id],
    );
    return alias[0]?.profile_id;
  }

  async findIdentifier(namespace: string, value: string): Promise<IdentifierRow | undefined> {
    const rows = await this.db.query('SELECT * FROM identifiers WHERE namespace = $1 AND value = $2', [
      namespace,
      value,
    ]);
    return rows[0] ? toIdentifier(rows[0]) : undefined;
  }

  async identifiersOf(profileId: string): Promise<IdentifierRow[]> {
    const rows = await this.db.query('SELECT * FROM identifiers WHERE profile_id = $1 ORDER BY id', [
      profileId,
    ]);
    return rows.map(toIdentifier);
  }

  /** The merge audit of a profile and of the profiles merged into it (`ids`). */
  async auditOf(ids: readonly string[]): Promise<AuditEntry[]> {
    if (ids.length === 0) return [];
    const list = placeholders(ids.length);
    const rows = await this.db.query(
      `SELECT * FROM identity_audit WHERE profile_id IN (${list}) OR other_profile_id IN (${list}) ORDER BY seq`,
      ids as string[],
    );
    return rows.map((r) => ({
      seq: r.seq as number,
      at: r.occurred_at as Date,
      kind: r.kind as AuditKind,
      profileId: r.profile_id as string,
      otherProfileId: r.other_profile_id as string | null,
      namespace: r.namespace as string | null,
      value: r.value as string | null,
      reason: r.reason as string,
      refKind: r.ref_kind as AuditEntry['refKind'],
      refSeq: r.ref_seq as number,
      sourceId: r.source_id as string,
    }));
  }

  /** Profile records that belong to a profile (through their anchor identifier), oldest first. */
  async recordsOf(profileId: string): Promise<RecordOfProfile[]> {
    const rows = await this.db.query(
      `SELECT r.seq, r.record_id, r.source_id, r.identifiers, r.attributes, r.received_at
       FROM identifiers i JOIN record_anchors a ON a.identifier_id = i.id
       JOIN profile_records r ON r.seq = a.record_seq
       WHERE i.profile_id = $1 ORDER BY r.seq`,
      [profileId],
    );
    return rows.map((r) => ({
      seq: r.seq as number,
      recordId: r.record_id as string,
      sourceId: r.source_id as string,
      identifiers: readJson(r.identifiers) as Record<string, string[]>,
      attributes: readJson(r.attributes),
      receivedAt: r.received_at as Date,
    }));
  }

  /** Profiles in id order, after `after`, with how many identifiers each has. */
  async listProfiles(limit: number, after?: string): Promise<{ id: string; identifiers: number }[]> {
    const rows = await this.db.query<{ id: string; n: number }>(
      `SELECT profile_id AS id, count(*) AS n FROM identifiers ${after ? 'WHERE profile_id > $2' : ''}
       GROUP BY profile_id ORDER BY profile_id LIMIT $1`,
      after ? [limit, after] : [limit],
    );
    return rows.map((r) => ({ id: r.id, identifiers: r.n }));
  }

  /** The graph in numbers: profiles, identifiers per namespace, shared identifiers, audit counts. */
  async stats(): Promise<{
    profiles: number;
    aliases: number;
    identifiers: Record<string, number>;
    shared: number;
    audit: Record<string, number>;
  }> {
    const [byNamespace, shared, audit, aliases] = await Promise.all([
      this.db.query<{ namespace: string; n: number }>(
        'SELECT namespace, count(*) AS n FROM identifiers GROUP BY namespace ORDER BY namespace',
      ),
      this.db.query<{ n: number }>('SELECT count(*) AS n FROM identifiers WHERE shared'),
      this.db.query<{ kind: string; n: number }>(
        'SELECT kind, count(*) AS n FROM identity_audit GROUP BY kind',
      ),
      this.db.query<{ n: number }>('SELECT count(*) AS n FROM profile_aliases'),
    ]);
    return {
      profiles: await this.countProfiles(),
      aliases: aliases[0]?.n ?? 0,
      identifiers: Object.fromEntries(byNamespace.map((r) => [r.namespace, r.n])),
      shared: shared[0]?.n ?? 0,
      audit: Object.fromEntries(audit.map((r) => [r.kind, r.n])),
    };
  }

  async countProfiles(): Promise<number> {
    const rows = await this.db.query<{ n: number }>(
      'SELECT count(DISTINCT profile_id) AS n FROM identifiers',
    );
    return rows[0]?.n ?? 0;
  }
}

export interface RecordOfProfile {
  seq: number;
  recordId: string;
  sourceId: string;
  identifiers: Record<string, string[]>;
  attributes: Record<string, unknown>;
  receivedAt: Date;
}

function toIdentifier(r: Record<string, unknown>): IdentifierRow {
  return {
    id: r.id as number,
    namespace: r.namespace as string,
    value: r.value as string,
    profileId: r.profile_id as string,
    shared: Boolean(r.shared),
    firstSeenAt: r.first_seen_at as Date,
    firstRefKind: r.first_ref_kind as IdentifierRow['firstRefKind'],
    firstRefSeq: r.first_ref_seq as number,
    firstSourceId: r.first_source_id as string,
  };
}

function identifierValues(i: IdentifierRow): SqlValue[] {
  return [
    i.id,
    i.namespace,
    i.value,
    i.profileId,
    i.shared,
    i.firstSeenAt,
    i.firstRefKind,
    i.firstRefSeq,
    i.firstSourceId,
  ];
}

function auditValues(a: AuditEntry): SqlValue[] {
  return [
    a.seq,
    a.at,
    a.kind,
    a.profileId,
    a.otherProfileId,
    a.namespace,
    a.value,
    a.reason,
    a.refKind,
    a.refSeq,
    a.sourceId,
  ];
}
