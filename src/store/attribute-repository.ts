import type { Database } from './database.js';
import { placeholders, readJson } from './dialect.js';
import { EVENT_PROFILE_ID, EVENT_PROFILE_JOIN } from './event-profiles.js';
import { dropProfileScope, fillProfileScope, scopeFilter } from './profile-scope.js';

/** One record or identify call of a profile, with the attribute values it carried. */
export interface AttributeSource {
  profileId: string;
  sourceId: string;
  /** `record:<record id>` or `event:<message id>`. */
  ref: string;
  values: Record<string, unknown>;
  receivedAt: Date;
}

/** The unified attributes of each profile, as segments read them. */
export class AttributeRepository {
  constructor(private readonly db: Database) {}

  /**
   * The profile records and identify calls of the given profiles (all when undefined), records
   * first, each kind in the order it arrived.
   */
  async sourcesOf(profileIds: readonly string[] | undefined): Promise<AttributeSource[]> {
    const scope = profileIds === undefined ? undefined : await fillProfileScope(this.db, profileIds);
    try {
      return await this.sourcesIn(scope);
    } finally {
      await dropProfileScope(this.db, scope);
    }
  }

  private async sourcesIn(scope: string | undefined): Promise<AttributeSource[]> {
    const records = await this.db.query(
      `SELECT i.profile_id, r.source_id, r.record_id AS ref, r.attributes AS v, r.received_at
       FROM profile_records r JOIN record_anchors a ON a.record_seq = r.seq
       JOIN identifiers i ON i.id = a.identifier_id
       WHERE ${scopeFilter('i.profile_id', scope)} ORDER BY r.seq`,
    );
    const identifies = await this.db.query(
      `SELECT ${EVENT_PROFILE_ID} AS profile_id, e.source_id, e.message_id AS ref, e.traits AS v, e.received_at
       FROM events e ${EVENT_PROFILE_JOIN}
       WHERE e.type = 'identify' AND ${scopeFilter(EVENT_PROFILE_ID, scope)} ORDER BY e.seq`,
    );
    const toSource = (kind: string) => (r: Record<string, unknown>) => ({
      profileId: r.profile_id as string,
      sourceId: r.source_id as string,
      ref: `${kind}:${r.ref as string}`,
      values: readJson(r.v),
      receivedAt: r.received_at as Date,
    });
    return [...records.map(toSource('record')), ...identifies.map(toSource('event'))];
  }

  /** Replaces the attributes of the given profiles (all when undefined) in one transaction. */
  async replace(
    profileIds: readonly string[] | undefined,
    rows: readonly { profileId: string; name: string; value: unknown }[],
  ): Promise<void> {
    const now = new Date();
    await this.db.transaction(async (tx) => {
      if (profileIds === undefined) {
        await tx.query('DELETE FROM profile_attributes');
      } else {
        if (profileIds.length === 0) return;
        const scope = await fillProfileScope(tx, profileIds);
        await tx.query(`DELETE FROM profile_attributes WHERE ${scopeFilter('profile_id', scope)}`);
        await dropProfileScope(tx, scope);
      }
      await tx.bulkInsert(
        'profile_attributes',
        ['profile_id', 'name', 'value', 'updated_at'],
        rows.map((r) => [r.profileId, r.name, JSON.stringify(r.value), now]),
      );
    });
  }

  /** Named attribute and trait values of the given profiles (all when undefined), as stored JSON text. */
  async valuesOf(
    profileIds: readonly string[] | undefined,
    names: { attributes: readonly string[]; traits: readonly string[] },
  ): Promise<{ profile_id: string; name: string; value: string | null; trait: boolean }[]> {
    const a = names.attributes.length;
    const t = names.traits.length;
    if (a + t === 0) return [];
    const scope = profileIds === undefined ? undefined : await fillProfileScope(this.db, profileIds);
    const parts = [
      ...(a > 0
        ? [
            `SELECT profile_id, name, value, false AS trait FROM profile_attributes
             WHERE ${scopeFilter('profile_id', scope)} AND name IN (${placeholders(a)})`,
          ]
        : []),
      ...(t > 0
        ? [
            `SELECT profile_id, name, value, true AS trait FROM profile_traits
             WHERE ${scopeFilter('profile_id', scope)} AND name IN (${placeholders(t, a + 1)})`,
          ]
        : []),
    ];
    try {
      return await this.db.query(parts.join(' UNION ALL '), [...names.attributes, ...names.traits]);
    } finally {
      await dropProfileScope(this.db, scope);
    }
  }
}
