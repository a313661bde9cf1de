import type { ConsentStatement, StoredEvent } from '../core/index.js';
import type { Database, SqlValue } from './database.js';
import { EVENT_PROFILE_ID, EVENT_PROFILE_JOIN } from './event-profiles.js';
import type { MembersCatchUp } from './members-catch-up.js';
import { dropProfileScope, fillProfileScope } from './profile-scope.js';

/** Columns of `consent_statements`, written beside the event or record that made each statement. */
export const CONSENT_COLUMNS = [
  'ref_kind',
  'ref_seq',
  'source_id',
  'user_id',
  'anonymous_id',
  'purpose',
  'granted',
  'stated_at',
  'dated',
] as const;

/** The rows of the statements of events numbered from `firstSeq` (`statements[i]` is event i's). */
export function eventConsentRows(
  events: readonly StoredEvent[],
  statements: readonly (readonly ConsentStatement[] | undefined)[],
  firstSeq: number,
): SqlValue[][] {
  const rows: SqlValue[][] = [];
  statements.forEach((list, i) => {
    const e = events[i]!;
    for (const s of list ?? []) {
      rows.push([
        'event',
        firstSeq + i,
        e.sourceId,
        e.userId,
        e.anonymousId,
        s.purpose,
        s.granted,
        s.statedAt,
        true,
      ]);
    }
  });
  return rows;
}

/** The rows of the statements of profile records numbered from `firstSeq`. */
export function recordConsentRows(
  sourceIds: readonly string[],
  statements: readonly (readonly ConsentStatement[] | undefined)[],
  firstSeq: number,
): SqlValue[][] {
  const rows: SqlValue[][] = [];
  statements.forEach((list, i) => {
    for (const s of list ?? []) {
      rows.push([
        'record',
        firstSeq + i,
        sourceIds[i]!,
        null,
        null,
        s.purpose,
        s.granted,
        s.statedAt,
        s.dated,
      ]);
    }
  });
  return rows;
}

/** A profile's current consent for one purpose: the statement that decides it. */
export interface ProfileConsent {
  profileId: string;
  purpose: string;
  granted: boolean;
  statedAt: Date;
  sourceId: string;
  via: 'event' | 'record';
}

/** How far identity resolution has stitched: statements up to here have a profile. */
export interface ConsentCursor {
  events: number;
  records: number;
  /** The identity audit's last seq: merges up to here are known. */
  audit: number;
}

/**
 * The statements of some profiles, each with the profile it belongs to now: an event's by its
 * user id, else its anonymous id (as `EVENT_PROFILE_JOIN`), a record's by its anchor identifier.
 * Identifiers follow merges, so statements do too. `$1` is the purpose when `byPurpose`.
 */
function statementsOf(profiles: string, byPurpose: boolean): string {
  const purpose = byPurpose ? 'AND c.purpose = $1' : '';
  return `ids AS (SELECT id, namespace, value, profile_id FROM identifiers WHERE profile_id IN (${profiles})),
  stated AS (
    SELECT u.profile_id, c.* FROM consent_statements c
    JOIN ids u ON u.namespace = 'user_id' AND u.value = c.user_id
    WHERE c.ref_kind = 'event' ${purpose}
    UNION ALL
    SELECT a.profile_id, c.* FROM consent_statements c
    JOIN ids a ON a.namespace = 'anonymous_id' AND a.value = c.anonymous_id
    WHERE c.ref_kind = 'event' ${purpose} AND (c.user_id IS NULL OR NOT EXISTS (
      SELECT 1 FROM identifiers x WHERE x.namespace = 'user_id' AND x.value = c.user_id))
    UNION ALL
    SELECT i.profile_id, c.* FROM consent_statements c
    JOIN record_anchors r ON r.record_seq = c.ref_seq JOIN ids i ON i.id = r.identifier_id
    WHERE c.ref_kind = 'record' ${purpose}
  )`;
}

/**
 * The deciding statement per profile and purpose: the latest by its time wins, a refusal over a
 * grant of the same time. A statement dated only by when it was received (a record without
 * `consent_<purpose>_at`) that repeats what its source said before is no new statement: a CRM
 * file imported again, still saying yes, does not undo a withdrawal made on the web since.
 */
function latestOf(profiles: string, byPurpose: boolean): string {
  return `WITH ${statementsOf(profiles, byPurpose)},
  changes AS (
    SELECT profile_id, purpose, granted, stated_at, source_id, ref_kind, ref_seq, dated,
      lag(granted) OVER (PARTITION BY profile_id, purpose, source_id ORDER BY stated_at, ref_kind, ref_seq) AS previous
    FROM stated
  ),
  ranked AS (
    SELECT profile_id, purpose, granted, stated_at, source_id, ref_kind,
      row_number() OVER (PARTITION BY profile_id, purpose ORDER BY stated_at DESC, granted, ref_seq DESC) AS n
    FROM changes WHERE dated OR previous IS NULL OR previous <> granted
  )`;
}

type LatestRow = {
  profile_id: string;
  purpose: string;
  granted: boolean;
  stated_at: Date;
  source_id: string;
  ref_kind: 'event' | 'record';
};

const toConsent = (r: LatestRow): ProfileConsent => ({
  profileId: r.profile_id,
  purpose: r.purpose,
  granted: Boolean(r.granted),
  statedAt: r.stated_at,
  sourceId: r.source_id,
  via: r.ref_kind,
});

/** Consent statements from events and profile records, resolved to profiles when read. */
export class ConsentRepository {
  constructor(
    private readonly db: Database,
    private readonly catchUp: MembersCatchUp,
  ) {}

  /** The current consent of some profiles, for one purpose or (undefined) every purpose they stated. */
  async latest(profileIds: readonly string[], purpose?: string): Promise<ProfileConsent[]> {
    if (profileIds.length === 0) return [];
    const scope = await fillProfileScope(this.db, profileIds);
    try {
      const profiles = `SELECT profile_id FROM profile_scope WHERE scope_id = '${scope}'`;
      const rows = await this.db.query<LatestRow>(
        `${latestOf(profiles, purpose !== undefined)}
         SELECT profile_id, purpose, granted, stated_at, source_id, ref_kind FROM ranked WHERE n = 1`,
        purpose === undefined ? [] : [purpose],
      );
      return rows.map(toConsent);
    } finally {
      await dropProfileScope(this.db, scope);
    }
  }

  /**
   * The members of a segment without a grant for `purpose`, in one statement: `true` when their
   * latest statement is a refusal, `false` when they made none.
   */
  async membersWithoutGrant(segmentId: string, purpose: string): Promise<Map<string, boolean>> {
    await this.catchUp.run();
    const members = 'SELECT profile_id FROM segment_members WHERE segment_id = $2';
    const rows = await this.db.query<{ profile_id: string; granted: boolean | null }>(
      `${latestOf(members, true)}
       SELECT m.profile_id, l.granted FROM segment_members m
       LEFT JOIN (SELECT profile_id, granted FROM ranked WHERE n = 1) l ON l.profile_id = m.profile_id
       WHERE m.segment_id = $2 AND (l.granted IS NULL OR NOT l.granted)`,
      [purpose, segmentId],
    );
    return new Map(rows.map((r) => [r.profile_id, r.granted === false]));
  }

  /**
   * Members of a segment whose consent for `purpose` may have changed between two identity
   * cursors: they have a statement stitched in between, or a merge in between joined them to
   * another profile.
   */
  async changedMembers(
    segmentId: string,
    purpose: string,
    from: ConsentCursor,
    to: ConsentCursor,
  ): Promise<string[]> {
    await this.catchUp.run();
    const rows = await this.db.query<{ profile_id: string }>(
      `SELECT DISTINCT profile_id FROM (
         SELECT ${EVENT_PROFILE_ID} AS profile_id FROM consent_statements e ${EVENT_PROFILE_JOIN}
         WHERE e.ref_kind = 'event' AND e.ref_seq > $3 AND e.ref_seq <= $4 AND e.purpose = $2
         UNION ALL
         SELECT i.profile_id FROM consent_statements c
         JOIN record_anchors a ON a.record_seq = c.ref_seq JOIN identifiers i ON i.id = a.identifier_id
         WHERE c.ref_kind = 'record' AND c.ref_seq > $5 AND c.ref_seq <= $6 AND c.purpose = $2
         UNION ALL
         SELECT COALESCE(pa.profile_id, au.profile_id) FROM identity_audit au
         LEFT JOIN profile_aliases pa ON pa.alias_id = au.profile_id
         WHERE au.kind = 'merge' AND au.seq > $7 AND au.seq <= $8
       ) changed
       WHERE profile_id IN (SELECT profile_id FROM segment_members WHERE segment_id = $1)`,
      [segmentId, purpose, from.events, to.events, from.records, to.records, from.audit, to.audit],
    );
    return rows.map((r) => r.profile_id);
  }
}
