import type { EvaluationMode } from '../core/index.js';
import type { Database, Row, SqlValue } from './database.js';
import { placeholders, readJson } from './dialect.js';
import { EVENT_PROFILE_ID, EVENT_PROFILE_JOIN } from './event-profiles.js';
import { applyPendingIn, type MembersCatchUp, markApplied } from './members-catch-up.js';
import { dropProfileScope, fillProfileScope, scopeFilter } from './profile-scope.js';

/** One entry into or exit from a segment, as the ledger keeps it. */
export interface LedgerChange {
  segmentId: string;
  profileId: string;
  entered: boolean;
  at: Date;
  reason: Record<string, unknown>;
}

export interface LedgerRow extends LedgerChange {
  seq: number;
  mode: EvaluationMode;
}

/** Per segment, what one evaluation changed. */
export interface EvaluationCounts {
  segmentId: string;
  entered: number;
  exited: number;
  members: number;
}

/** An event as segments read it, with the profile it belongs to. */
export interface SegmentEventRow {
  seq: number;
  messageId: string;
  event: string;
  timestamp: Date;
  properties: Record<string, unknown>;
  profileId: string;
}

const LEDGER_COLUMNS = [
  'seq',
  'segment_id',
  'profile_id',
  'entered',
  'changed_at',
  'mode',
  'reason',
  'event_seq',
];

/**
 * The reason of a change an event caused, as the streaming evaluator gives it. The ledger keeps
 * only the event's seq (`event_seq`; `reason` is null) and reads the rest from the event. A JSON
 * text per change cost a third of writing the ledger on DuckDB, and two thirds of its size
 * (300,000 changes: 5.4-5.9 us a change against 8.4-8.8, 4.2-4.5 MB against 12.9-13.9 MB).
 */
interface EventReason {
  kind: 'event';
  event: string;
  messageId: string;
  seq: number;
}

function isEventReason(reason: Record<string, unknown>): reason is Record<string, unknown> & EventReason {
  return (
    reason.kind === 'event' &&
    Number.isSafeInteger(reason.seq) &&
    typeof reason.event === 'string' &&
    typeof reason.messageId === 'string' &&
    Object.keys(reason).length === 4
  );
}

/** An event reason read back; an event removed since (a failed import's) leaves only its seq. */
function eventReason(r: Row): Record<string, unknown> {
  const seq = Number(r.event_seq);
  if (r.message_id === null || r.message_id === undefined) return { kind: 'event', seq };
  return { kind: 'event', event: (r.event as string | null) ?? '', messageId: r.message_id, seq };
}

/** The membership ledger (every entry and exit) and the current members it adds up to. */
export class MembershipRepository {
  constructor(
    private readonly db: Database,
    private readonly catchUp: MembersCatchUp,
  ) {}

  /**
   * Appends changes to the ledger, in one transaction; they are committed when it resolves.
   * Changes are in the order they happened; a key may change more than once. The members table
   * follows later (`applyToMembers`, or any read of the members), from the ledger rows.
   */
  async record(changes: readonly LedgerChange[], mode: EvaluationMode): Promise<number> {
    if (changes.length === 0) return 0;
    const text = ledgerText(changes);
    return this.db.writeSequenced('segment_changes', async (tx, reserve) => {
      const first = await reserve(changes.length);
      if (!text) {
        await tx.bulkInsert('segment_changes', LEDGER_COLUMNS, ledgerRows(changes, mode, first));
        return first;
      }
      // A line per run: its first change's place in the batch, the profile, the time's number in
      // `times`, the reason (JSON, or the event's seq) and the runs' segments (see `ledgerText`).
      await tx.query(
        `INSERT INTO segment_changes (${LEDGER_COLUMNS.join(', ')})
         WITH k AS (
           SELECT string_to_array($2, chr(10)) AS segments, CAST(string_to_array($4, ',') AS TIMESTAMPTZ[]) AS times
         ),
         l AS (SELECT string_to_array(u.line, chr(9)) AS f FROM unnest(string_to_array($3, chr(10))) AS u(line)),
         c AS (
           SELECT CAST(f[1] AS BIGINT) AS place, f[2] AS profile_id, CAST(f[3] AS INTEGER) AS t, f[4] AS reason,
             f[5] AS event_seq, unnest(string_to_array(f[6], ',')) AS s, generate_subscripts(string_to_array(f[6], ','), 1) AS i
           FROM l
         )
         SELECT $1 + c.place + c.i - 1, k.segments[abs(CAST(c.s AS INTEGER))], c.profile_id, CAST(c.s AS INTEGER) > 0,
           k.times[c.t], $5, CAST(NULLIF(c.reason, '') AS ${tx.dialect.jsonType}), CAST(NULLIF(c.event_seq, '') AS BIGINT)
         FROM c, k`,
        [first, text.segments, text.runs, text.times, mode],
      );
      return first;
    });
  }

  /** Applies every ledger change committed so far to the members table (reads do it themselves). */
  applyToMembers(): Promise<void> {
    return this.catchUp.run();
  }

  /**
   * Replaces the members of `segmentIds` with what `resultSql` selects (`segment_id, profile_id`
   * rows), recording every entry and exit in the ledger, in one transaction.
   */
  async replaceMembers(
    segmentIds: readonly string[],
    result: { sql: string; params: SqlValue[] },
    at: Date,
    reason: Record<string, unknown>,
  ): Promise<EvaluationCounts[]> {
    if (segmentIds.length === 0) return [];
    // Kept apart from the members catch-up: both update the members.
    return this.catchUp.exclusive(() =>
      this.db.writeSequenced('segment_changes', async (tx, _reserve, numberFrom) => {
        // The result is compared with the members, so they first take every streaming change before
        // it. If nothing came in between, the members then hold this evaluation's changes too and
        // are marked so (a catch-up would otherwise apply millions of first entries again).
        const applied = await applyPendingIn(tx);
        const json = tx.dialect.jsonType;
        const n = result.params.length;
        // The result is compared with the members as it is computed, and the changes go straight to
        // the ledger: each copy of millions of memberships costs seconds (materializing the result
        // first, and numbering each group in profile order, took 7.8-8.4 s against 3.9 s for the 8.3M
        // entries of the segments bench's first evaluation, in isolation on DuckDB).
        // One full join finds the entries and the exits together: two anti-joins built a hash table
        // of millions each (DuckDB, 8.3M members against a result that differs by 0.2%: 2.2-2.4 s
        // against 4.6-5.6 s).
        // Numbered by (entered, segment_id) group, each group after the groups before it, so one
        // segment's changes of an evaluation are consecutive; within a group, in no set order.
        const { first, count } = await numberFrom((first, into) =>
          tx.query(
            `INSERT INTO ${into} (${LEDGER_COLUMNS.join(', ')})
             WITH r AS (${result.sql}),
             d AS MATERIALIZED (
               SELECT coalesce(r.segment_id, m.segment_id) AS segment_id, coalesce(r.profile_id, m.profile_id) AS profile_id,
                 m.profile_id IS NULL AS entered
               FROM r FULL JOIN (
                 SELECT segment_id, profile_id FROM segment_members WHERE segment_id IN (${placeholders(segmentIds.length, n + 4)})
               ) m ON m.segment_id = r.segment_id AND m.profile_id = r.profile_id
               WHERE r.profile_id IS NULL OR m.profile_id IS NULL
             ),
             g AS (
               SELECT entered, segment_id, CAST(sum(count(*)) OVER (ORDER BY entered, segment_id) - count(*) AS BIGINT) AS before
               FROM d GROUP BY entered, segment_id
             )
             SELECT CAST($${n + 1} AS BIGINT) - 1 + g.before + row_number() OVER (PARTITION BY d.entered, d.segment_id),
               d.segment_id, d.profile_id, d.entered, CAST($${n + 2} AS TIMESTAMPTZ), 'batch', CAST($${n + 3} AS ${json}), NULL
             FROM d JOIN g ON g.entered = d.entered AND g.segment_id = d.segment_id`,
            [...result.params, first, at, JSON.stringify(reason), ...segmentIds],
          ),
        );
        const counts =
          count === 0
            ? []
            : await tx.query<{ segment_id: string; entered: number; exited: number }>(
                `SELECT segment_id, count(*) FILTER (WHERE entered) AS entered, count(*) FILTER (WHERE NOT entered) AS exited
                 FROM segment_changes WHERE seq >= $1 GROUP BY segment_id`,
                [first],
              );
        if (count > 0) {
          await applyOwnChanges(tx, first);
          if (applied === first - 1) await markApplied(tx, first + count - 1);
        }
        const sizes = await tx.query<{ segment_id: string; n: number }>(
          `SELECT segment_id, count(*) AS n FROM segment_members WHERE segment_id IN (${placeholders(segmentIds.length)}) GROUP BY segment_id`,
          [...segmentIds],
        );
        const changed = new Map(counts.map((c) => [c.segment_id, c]));
        const size = new Map(sizes.map((s) => [s.segment_id, s.n]));
        return segmentIds.map((segmentId) => ({
          segmentId,
          entered: changed.get(segmentId)?.entered ?? 0,
          exited: changed.get(segmentId)?.exited ?? 0,
          members: size.get(segmentId) ?? 0,
        }));
      }),
    );
  }

  /** Every current membership of the given segments, for the streaming evaluator to start from. */
  async membersOf(
    segmentIds: readonly string[],
    onRows: (rows: { segment_id: string; profile_id: string }[]) => void,
  ) {
    if (segmentIds.length === 0) return;
    await this.catchUp.run();
    let after = '';
    for (;;) {
      const rows = await this.db.query<{ segment_id: string; profile_id: string }>(
        `SELECT segment_id, profile_id FROM segment_members
         WHERE segment_id IN (${placeholders(segmentIds.length, 2)}) AND segment_id || '\u0001' || profile_id > $1
         ORDER BY segment_id || '\u0001' || profile_id LIMIT 100000`,
        [after, ...segmentIds],
      );
      if (rows.length === 0) return;
      onRows(rows);
      const last = rows[rows.length - 1]!;
      after = `${last.segment_id}\u0001${last.profile_id}`;
    }
  }

  /** A page of a segment's members in profile id order. */
  async members(segmentId: string, limit: number, after = ''): Promise<{ profileId: string; since: Date }[]> {
    await this.catchUp.run();
    const rows = await this.db.query<{ profile_id: string; since: Date }>(
      `SELECT profile_id, since FROM segment_members WHERE segment_id = $1 AND profile_id > $2
       ORDER BY profile_id LIMIT $3`,
      [segmentId, after, limit],
    );
    return rows.map((r) => ({ profileId: r.profile_id, since: r.since }));
  }

  /** Members per segment. */
  async sizes(): Promise<Map<string, number>> {
    await this.catchUp.run();
    const rows = await this.db.query<{ segment_id: string; n: number }>(
      'SELECT segment_id, count(*) AS n FROM segment_members GROUP BY segment_id',
    );
    return new Map(rows.map((r) => [r.segment_id, r.n]));
  }

  async count(segmentId: string): Promise<number> {
    await this.catchUp.run();
    const rows = await this.db.query<{ n: number }>(
      'SELECT count(*) AS n FROM segment_members WHERE segment_id = $1',
      [segmentId],
    );
    return rows[0]?.n ?? 0;
  }

  /** The ledger of one segment after `sinceSeq`, oldest first: the feed that activations read. */
  /** The seq of a segment's latest ledger entry (0 when it has none). */
  async lastSeq(segmentId: string): Promise<number> {
    const rows = await this.db.query<{ seq: number | null }>(
      'SELECT max(seq) AS seq FROM segment_changes WHERE segment_id = $1',
      [segmentId],
    );
    return Number(rows[0]?.seq ?? 0);
  }

  async changes(segmentId: string, sinceSeq: number, limit: number): Promise<LedgerRow[]> {
    // The page first: the events are looked up for its rows alone.
    const rows = await this.db.query(
      `SELECT c.seq, c.segment_id, c.profile_id, c.entered, c.changed_at, c.mode, c.reason, c.event_seq,
         e.event, e.message_id
       FROM (SELECT * FROM segment_changes WHERE segment_id = $1 AND seq > $2 ORDER BY seq LIMIT $3) c
       LEFT JOIN events e ON e.seq = c.event_seq
       ORDER BY c.seq`,
      [segmentId, sinceSeq, limit],
    );
    return rows.map((r) => ({
      seq: r.seq as number,
      segmentId: r.segment_id as string,
      profileId: r.profile_id as string,
      entered: r.entered as boolean,
      at: r.changed_at as Date,
      mode: r.mode as EvaluationMode,
      reason: r.event_seq === null ? readJson(r.reason) : eventReason(r),
    }));
  }

  /** The segments a profile is in, with since when. */
  async ofProfile(profileId: string): Promise<{ segmentId: string; since: Date }[]> {
    await this.catchUp.run();
    const rows = await this.db.query<{ segment_id: string; since: Date }>(
      'SELECT segment_id, since FROM segment_members WHERE profile_id = $1 ORDER BY segment_id',
      [profileId],
    );
    return rows.map((r) => ({ segmentId: r.segment_id, since: r.since }));
  }

  /** Members at the end of each day (UTC) on which the segment changed. */
  async sizeByDay(segmentId: string): Promise<{ day: Date; members: number }[]> {
    const rows = await this.db.query<{ day: Date; net: number }>(
      `SELECT date_trunc('day', changed_at) AS day, sum(CASE WHEN entered THEN 1 ELSE -1 END) AS net
       FROM segment_changes WHERE segment_id = $1 GROUP BY 1 ORDER BY 1`,
      [segmentId],
    );
    let members = 0;
    return rows.map((r) => {
      members += Number(r.net);
      return { day: r.day, members };
    });
  }

  /** Every profile id in use. */
  async profileIds(onRows: (ids: string[]) => void): Promise<void> {
    let after = '';
    for (;;) {
      const rows = await this.db.query<{ profile_id: string }>(
        `SELECT DISTINCT profile_id FROM identifiers WHERE profile_id > $1 ORDER BY profile_id LIMIT 100000`,
        [after],
      );
      if (rows.length === 0) return;
      onRows(rows.map((r) => r.profile_id));
      after = rows[rows.length - 1]!.profile_id;
    }
  }

  /**
   * Stitched events named `names` with seq in (`afterSeq`, `throughSeq`], with their profiles, in
   * seq order; `profileIds` limits them to those profiles. Of the properties only `paths` are read
   * (as text, the way SQL reads them), which keeps large event payloads out of memory.
   */
  async events(
    names: readonly string[],
    afterSeq: number,
    throughSeq: number,
    paths: readonly (readonly string[])[],
    profileIds?: readonly string[],
  ): Promise<SegmentEventRow[]> {
    if (names.length === 0) return [];
    const scope = profileIds ? await fillProfileScope(this.db, profileIds) : undefined;
    const d = this.db.dialect;
    const columns = paths.map((path, i) => `, ${d.jsonText('e.properties', path)} AS p${i}`).join('');
    const rows = await this.db
      .query(
        `SELECT e.seq, e.message_id, e.event, e.timestamp${columns}, ${EVENT_PROFILE_ID} AS profile_id
       FROM events e ${EVENT_PROFILE_JOIN}
       WHERE e.seq > $1 AND e.seq <= $2 AND e.event IN (${placeholders(names.length, 3)})
         AND ${scopeFilter(EVENT_PROFILE_ID, scope)}
       ORDER BY e.seq`,
        [afterSeq, throughSeq, ...names],
      )
      .finally(() => dropProfileScope(this.db, scope));
    return rows.map((r) => {
      const properties: Record<string, unknown> = {};
      paths.forEach((path, i) => {
        const value = r[`p${i}`];
        if (value === null || value === undefined) return;
        let at = properties;
        for (const key of path.slice(0, -1)) {
          if (typeof at[key] !== 'object' || at[key] === null) at[key] = {};
          at = at[key] as Record<string, unknown>;
        }
        at[path[path.length - 1]!] = value;
      });
      return {
        seq: r.seq as number,
        messageId: r.message_id as string,
        event: r.event as string,
        timestamp: r.timestamp as Date,
        properties,
        profileId: r.profile_id as string,
      };
    });
  }
}

/**
 * Applies an evaluation's changes (ledger rows from `first` on, at most one per key: an entry is
 * of a non-member, an exit of a member) to the members.
 */
async function applyOwnChanges(tx: Database, first: number): Promise<void> {
  await tx.query(
    `DELETE FROM segment_members USING (SELECT segment_id, profile_id FROM segment_changes WHERE seq >= $1 AND NOT entered) c
     WHERE segment_members.segment_id = c.segment_id AND segment_members.profile_id = c.profile_id`,
    [first],
  );
  await tx.query(
    `INSERT INTO segment_members (segment_id, profile_id, since)
     SELECT segment_id, profile_id, changed_at FROM segment_changes WHERE seq >= $1 AND entered`,
    [first],
  );
}

/**
 * The changes as text for one INSERT statement, which the engine splits on its own threads: on
 * DuckDB the appender would convert and write every cell on the event loop's thread, about 6 us
 * per change. Consecutive changes of one profile at one time for one reason (those an event
 * caused) make a run, written as one line: the place of its first change in the batch, the
 * profile, the number of its time in `times`, the reason as JSON or else the seq of the event that
 * caused it, and its segments, comma-separated, each the number of its id in `segments` (negative:
 * an exit). The times are comma-separated, one for each run of changes at the same time. Undefined
 * when an id is not plain text (the appender's rows are used instead).
 *
 * A line per change instead, with its segment's and profile's ids, cost about three times as much
 * (40,000 changes of 6 per event on DuckDB, in isolation: 280-330 ms against 80-105 ms, a third of
 * it joining the text on the event loop).
 */
function ledgerText(
  changes: readonly LedgerChange[],
): { segments: string; runs: string; times: string } | undefined {
  const segments = new Map<string, number>();
  const runs: string[] = [];
  const times: string[] = [];
  let at = Number.NaN;
  for (let i = 0; i < changes.length; ) {
    const c = changes[i]!;
    if (!plainId(c.profileId)) return undefined;
    if (c.at.getTime() !== at) {
      at = c.at.getTime();
      times.push(c.at.toISOString());
    }
    const reason = c.reason;
    const start = i;
    let list = '';
    for (; i < changes.length; i++) {
      const d = changes[i]!;
      if (i > start && (d.profileId !== c.profileId || d.reason !== reason || d.at.getTime() !== at)) break;
      let n = segments.get(d.segmentId);
      if (n === undefined) {
        if (!plainId(d.segmentId)) return undefined;
        n = segments.size + 1;
        segments.set(d.segmentId, n);
      }
      if (i > start) list += ',';
      list += d.entered ? n : -n;
    }
    // JSON text holds no raw tab or line break: they are escaped.
    const reasonText = isEventReason(reason) ? `\t${reason.seq}` : `${JSON.stringify(reason)}\t`;
    runs.push(`${start}\t${c.profileId}\t${times.length}\t${reasonText}\t${list}`);
  }
  return { segments: [...segments.keys()].join('\n'), runs: runs.join('\n'), times: times.join(',') };
}

const plainId = (id: unknown): boolean => typeof id === 'string' && !/[\t\n\r]/.test(id);

/** The changes as ledger rows from seq `first` (the reason written as JSON once per run). */
function ledgerRows(changes: readonly LedgerChange[], mode: EvaluationMode, first: number): SqlValue[][] {
  let reason: Record<string, unknown> | undefined;
  let cells: [string | null, number | null] = [null, null];
  return changes.map((c, i) => {
    if (c.reason !== reason) {
      reason = c.reason;
      cells = isEventReason(reason) ? [null, reason.seq] : [JSON.stringify(reason), null];
    }
    return [first + i, c.segmentId, c.profileId, c.entered, c.at, mode, ...cells];
  });
}
