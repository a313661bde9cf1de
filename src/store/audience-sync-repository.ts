import { NotFoundError, UserError } from '../core/index.js';
import type { ConsentCursor } from './consent-repository.js';
import type { Database } from './database.js';
import { placeholders, readJson } from './dialect.js';
import type { MembersCatchUp } from './members-catch-up.js';
import { storableJson } from './storable-text.js';

/** An audience sync as stored: which segment goes where, mapped how, and how far it has been sent. */
export interface StoredAudienceSync {
  id: string;
  name: string;
  segmentId: string;
  destinationId: string;
  fields: Record<string, string>;
  /** The last ledger seq enqueued for the destination; undefined before the first full sync. */
  cursor: number | undefined;
  lastSyncedAt: Date | undefined;
  lastError: string | undefined;
  createdAt: Date;
  /** Identity's cursors when the sync last read consent; undefined before the first full sync. */
  consentCursor: ConsentCursor | undefined;
  /** The destination purpose the held-back members were found for (undefined: none). */
  purpose: string | undefined;
  lastStep: SyncStepStats | undefined;
}

/** What one step of a sync did. */
export interface SyncStepStats {
  at: string;
  /** Adds enqueued (consent granted again included). */
  added: number;
  /** Removes enqueued (withdrawals included). */
  removed: number;
  /** Members held back from the destination by this step, per reason (`no_consent:email`). */
  suppressed: Record<string, number>;
  /** Members removed from the destination because their consent for its purpose went. */
  withdrawn: number;
  /** Members sent again because their consent came back. */
  regranted: number;
}

/** A step's outcome, written at once: the cursors, and the members it held back or let go. */
export interface SyncProgress {
  cursor: number;
  consentCursor: ConsentCursor;
  purpose: string | undefined;
  lastStep: SyncStepStats;
  hold: readonly { profileId: string; reason: string }[];
  release: readonly string[];
}

type Row = {
  id: string;
  name: string;
  segment_id: string;
  destination_id: string;
  fields: unknown;
  cursor: number | null;
  last_synced_at: Date | null;
  last_error: string | null;
  created_at: Date;
  consent_cursor: unknown;
  purpose: string | null;
  last_step: unknown;
};

const toSync = (r: Row): StoredAudienceSync => ({
  id: r.id,
  name: r.name,
  segmentId: r.segment_id,
  destinationId: r.destination_id,
  fields: readJson(r.fields) as Record<string, string>,
  cursor: r.cursor === null ? undefined : Number(r.cursor),
  lastSyncedAt: r.last_synced_at ?? undefined,
  lastError: r.last_error ?? undefined,
  createdAt: r.created_at,
  consentCursor:
    r.consent_cursor === null ? undefined : (readJson(r.consent_cursor) as unknown as ConsentCursor),
  purpose: r.purpose ?? undefined,
  lastStep: r.last_step === null ? undefined : (readJson(r.last_step) as unknown as SyncStepStats),
});

/** Audience syncs and their cursors into the membership ledger. */
export class AudienceSyncRepository {
  constructor(
    private readonly db: Database,
    private readonly catchUp: MembersCatchUp,
  ) {}

  async list(): Promise<StoredAudienceSync[]> {
    return (await this.db.query<Row>('SELECT * FROM audience_syncs ORDER BY name')).map(toSync);
  }

  async get(id: string): Promise<StoredAudienceSync> {
    const rows = await this.db.query<Row>('SELECT * FROM audience_syncs WHERE id = $1', [id]);
    if (!rows[0]) throw new NotFoundError('audience sync', id);
    return toSync(rows[0]);
  }

  async create(s: StoredAudienceSync): Promise<void> {
    await this.db.transaction(async (tx) => {
      if ((await tx.query('SELECT 1 FROM audience_syncs WHERE name = $1', [s.name])).length > 0) {
        throw new UserError('conflict', `an audience sync named ${JSON.stringify(s.name)} already exists`, [
          { code: 'conflict', path: ['name'], message: 'name is taken' },
        ]);
      }
      await tx.query(
        `INSERT INTO audience_syncs (id, name, segment_id, destination_id, fields, cursor, created_at)
         VALUES ($1, $2, $3, $4, $5, NULL, $6)`,
        [s.id, s.name, s.segmentId, s.destinationId, storableJson(s.fields), s.createdAt],
      );
    });
  }

  /**
   * Records a step after what it enqueued: the ledger and consent cursors, and the members it
   * held back or let go, in one transaction.
   */
  async advance(id: string, p: SyncProgress, at: Date): Promise<void> {
    await this.db.transaction(async (tx) => {
      await replaceHeld(tx, id, [...p.release, ...p.hold.map((h) => h.profileId)], p.hold);
      await tx.query(
        `UPDATE audience_syncs SET cursor = $2, last_synced_at = $3, last_error = NULL,
         consent_cursor = $4, purpose = $5, last_step = $6 WHERE id = $1`,
        [id, p.cursor, at, storableJson(p.consentCursor), p.purpose ?? null, storableJson(p.lastStep)],
      );
    });
  }

  /** Sets which of `profileIds` a sync holds back (those in `hold`; the others not). */
  async holdAmong(
    id: string,
    profileIds: readonly string[],
    hold: readonly { profileId: string; reason: string }[],
  ): Promise<void> {
    await this.db.transaction((tx) => replaceHeld(tx, id, profileIds, hold));
  }

  /** The members a sync's contact policy held back (quiet hours, frequency caps), to be tried again. */
  async heldByContactPolicy(id: string): Promise<string[]> {
    const rows = await this.db.query<{ profile_id: string }>(
      `SELECT profile_id FROM audience_sync_suppressed
       WHERE sync_id = $1 AND (reason = 'quiet_hours' OR reason LIKE 'frequency_cap:%') ORDER BY profile_id`,
      [id],
    );
    return rows.map((r) => r.profile_id);
  }

  /** The members of a sync held back from its destination (of `profileIds`, or all), with why. */
  async heldBack(id: string, profileIds?: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const read = async (where: string, params: string[]) => {
      const rows = await this.db.query<{ profile_id: string; reason: string }>(
        `SELECT profile_id, reason FROM audience_sync_suppressed WHERE sync_id = $1 ${where}`,
        [id, ...params],
      );
      for (const r of rows) out.set(r.profile_id, r.reason);
    };
    if (profileIds === undefined) await read('', []);
    else {
      for (let i = 0; i < profileIds.length; i += 500) {
        const ids = profileIds.slice(i, i + 500);
        await read(`AND profile_id IN (${placeholders(ids.length, 2)})`, ids);
      }
    }
    return out;
  }

  /** How many members each sync holds back, per reason. */
  async heldBackCounts(): Promise<Map<string, Record<string, number>>> {
    const rows = await this.db.query<{ sync_id: string; reason: string; n: number }>(
      'SELECT sync_id, reason, count(*) AS n FROM audience_sync_suppressed GROUP BY sync_id, reason',
    );
    const out = new Map<string, Record<string, number>>();
    for (const r of rows) out.set(r.sync_id, { ...out.get(r.sync_id), [r.reason]: Number(r.n) });
    return out;
  }

  /** Records why a step failed (undefined: clears it). */
  async failed(id: string, error: string | undefined): Promise<void> {
    await this.db.query('UPDATE audience_syncs SET last_error = $2 WHERE id = $1', [id, error ?? null]);
  }

  async delete(id: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      const rows = await tx.query('DELETE FROM audience_syncs WHERE id = $1 RETURNING id', [id]);
      if (rows.length === 0) throw new NotFoundError('audience sync', id);
      await tx.query('DELETE FROM audience_sync_suppressed WHERE sync_id = $1', [id]);
    });
  }

  /**
   * What fills the destination fields of some profiles: attribute and trait values (parsed from
   * their stored JSON), and each identifier namespace's first-seen value. Keyed `attr`, `trait:x`,
   * `identifier:ns`. Chunked `IN` lists rather than the shared scope table, which segment
   * evaluation may be filling at the same time.
   */
  async profileValues(
    profileIds: readonly string[],
    names: { attributes: readonly string[]; traits: readonly string[]; namespaces: readonly string[] },
  ): Promise<Map<string, Map<string, unknown>>> {
    const out = new Map<string, Map<string, unknown>>();
    const put = (profileId: string, key: string, value: unknown) => {
      const profile = out.get(profileId) ?? new Map<string, unknown>();
      out.set(profileId, profile);
      if (!profile.has(key)) profile.set(key, value);
    };
    for (let i = 0; i < profileIds.length; i += 500) {
      const ids = profileIds.slice(i, i + 500);
      const inIds = placeholders(ids.length);
      const valueTables = [
        { table: 'profile_attributes', wanted: names.attributes, prefix: '' },
        { table: 'profile_traits', wanted: names.traits, prefix: 'trait:' },
      ];
      for (const { table, wanted, prefix } of valueTables) {
        if (wanted.length === 0) continue;
        const rows = await this.db.query<{ profile_id: string; name: string; value: string | null }>(
          `SELECT profile_id, name, value FROM ${table}
           WHERE profile_id IN (${inIds}) AND name IN (${placeholders(wanted.length, ids.length + 1)})`,
          [...ids, ...wanted],
        );
        for (const r of rows)
          put(r.profile_id, `${prefix}${r.name}`, r.value === null ? null : JSON.parse(r.value));
      }
      if (names.namespaces.length > 0) {
        const rows = await this.db.query<{ profile_id: string; namespace: string; value: string }>(
          `SELECT profile_id, namespace, value FROM identifiers
           WHERE profile_id IN (${inIds}) AND namespace IN (${placeholders(names.namespaces.length, ids.length + 1)})
           ORDER BY id`,
          [...ids, ...names.namespaces],
        );
        for (const r of rows) put(r.profile_id, `identifier:${r.namespace}`, r.value);
      }
    }
    return out;
  }

  /** Profiles with a ledger entry or exit of the segment after `afterSeq` (not yet read by a sync). */
  async pendingProfiles(segmentId: string, afterSeq: number): Promise<Set<string>> {
    const rows = await this.db.query<{ profile_id: string }>(
      'SELECT DISTINCT profile_id FROM segment_changes WHERE segment_id = $1 AND seq > $2',
      [segmentId, afterSeq],
    );
    return new Set(rows.map((r) => r.profile_id));
  }

  /** Which of `profileIds` are members of the segment now. */
  async membersAmong(segmentId: string, profileIds: readonly string[]): Promise<Set<string>> {
    const out = new Set<string>();
    await this.catchUp.run();
    for (let i = 0; i < profileIds.length; i += 500) {
      const ids = profileIds.slice(i, i + 500);
      const rows = await this.db.query<{ profile_id: string }>(
        `SELECT profile_id FROM segment_members WHERE segment_id = $1 AND profile_id IN (${placeholders(ids.length, 2)})`,
        [segmentId, ...ids],
      );
      for (const r of rows) out.add(r.profile_id);
    }
    return out;
  }

  /** Whether any sync sends the given segment (it cannot be deleted then). */
  async usesSegment(segmentId: string): Promise<boolean> {
    return (
      (await this.db.query('SELECT 1 FROM audience_syncs WHERE segment_id = $1 LIMIT 1', [segmentId]))
        .length > 0
    );
  }
}

/** Forgets whether `profileIds` are held back by a sync, then records `hold` (a subset of them). */
async function replaceHeld(
  tx: Database,
  id: string,
  profileIds: readonly string[],
  hold: readonly { profileId: string; reason: string }[],
): Promise<void> {
  for (let i = 0; i < profileIds.length; i += 500) {
    const ids = profileIds.slice(i, i + 500);
    await tx.query(
      `DELETE FROM audience_sync_suppressed WHERE sync_id = $1 AND profile_id IN (${placeholders(ids.length, 2)})`,
      [id, ...ids],
    );
  }
  await tx.bulkInsert(
    'audience_sync_suppressed',
    ['sync_id', 'profile_id', 'reason'],
    hold.map((h) => [id, h.profileId, h.reason]),
  );
}
