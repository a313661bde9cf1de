import { NotFoundError, UserError } from '../core/index.js';
import type { Database } from './database.js';
import { placeholders, readJson } from './dialect.js';
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
});

/** Audience syncs and their cursors into the membership ledger. */
export class AudienceSyncRepository {
  constructor(private readonly db: Database) {}

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

  /** Moves the cursor after the changes up to `cursor` were enqueued. */
  async advance(id: string, cursor: number, at: Date): Promise<void> {
    await this.db.query(
      'UPDATE audience_syncs SET cursor = $2, last_synced_at = $3, last_error = NULL WHERE id = $1',
      [id, cursor, at],
    );
  }

  async failed(id: string, error: string): Promise<void> {
    await this.db.query('UPDATE audience_syncs SET last_error = $2 WHERE id = $1', [id, error]);
  }

  async delete(id: string): Promise<void> {
    const rows = await this.db.query('DELETE FROM audience_syncs WHERE id = $1 RETURNING id', [id]);
    if (rows.length === 0) throw new NotFoundError('audience sync', id);
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

  /** Whether any sync sends the given segment (it cannot be deleted then). */
  async usesSegment(segmentId: string): Promise<boolean> {
    return (
      (await this.db.query('SELECT 1 FROM audience_syncs WHERE segment_id = $1 LIMIT 1', [segmentId]))
        .length > 0
    );
  }
}
