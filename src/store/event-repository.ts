import { type ConsentStatement, consentOfEvent, type EventType, type StoredEvent } from '../core/index.js';
import { CONSENT_COLUMNS, eventConsentRows } from './consent-repository.js';
import { type Database, retireSeqs, type SqlValue } from './database.js';
import { readJson } from './dialect.js';
import { storableJson } from './storable-text.js';

const COLUMNS = [
  'seq',
  'message_id',
  'source_id',
  'type',
  'user_id',
  'anonymous_id',
  'event',
  'group_id',
  'previous_id',
  'timestamp',
  'original_timestamp',
  'sent_at',
  'received_at',
  'properties',
  'traits',
  'context',
  'import_id',
] as const;

export interface EventQuery {
  sourceId?: string | undefined;
  type?: EventType | undefined;
  userId?: string | undefined;
  anonymousId?: string | undefined;
  /** Only events with a `seq` below this (paging backwards). */
  beforeSeq?: number | undefined;
  limit: number;
}

export interface EventRecord extends StoredEvent {
  seq: number;
}

/** Raw events as received. */
export class EventRepository {
  constructor(private readonly db: Database) {}

  /** Appends events in one bulk write and returns the `seq` of the first (events get consecutive ones). */
  async append(events: readonly StoredEvent[], importId: string | null = null): Promise<number> {
    if (events.length === 0) return 0;
    const rowsFrom = (first: number) =>
      events.map((e, i): SqlValue[] => [
        first + i,
        e.messageId,
        e.sourceId,
        e.type,
        e.userId,
        e.anonymousId,
        e.event,
        e.groupId,
        e.previousId,
        e.timestamp,
        e.originalTimestamp,
        e.sentAt,
        e.receivedAt,
        storableJson(e.properties),
        storableJson(e.traits),
        storableJson(e.context),
        importId,
      ]);
    // Consent stated by the events goes in the same transaction (only when there is some).
    let consent: ConsentStatement[][] | undefined;
    for (let i = 0; i < events.length; i++) {
      const stated = consentOfEvent(events[i]!);
      if (stated.length === 0) continue;
      consent ??= [];
      consent[i] = stated;
    }
    if (consent === undefined) {
      return this.db.appendSequenced('events', COLUMNS, events.length, rowsFrom, { skipConflicts: true });
    }
    return this.db.writeSequenced('events', async (tx, reserve) => {
      const first = await reserve(events.length);
      await tx.bulkInsert('events', COLUMNS, rowsFrom(first), { skipConflicts: true });
      await tx.bulkInsert('consent_statements', CONSENT_COLUMNS, eventConsentRows(events, consent, first));
      return first;
    });
  }

  /** The newest events first. */
  async query(q: EventQuery): Promise<EventRecord[]> {
    const where: string[] = [];
    const params: SqlValue[] = [];
    const add = (sql: string, v: SqlValue) => {
      params.push(v);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (q.sourceId) add('source_id = ?', q.sourceId);
    if (q.type) add('type = ?', q.type);
    if (q.userId) add('user_id = ?', q.userId);
    if (q.anonymousId) add('anonymous_id = ?', q.anonymousId);
    if (q.beforeSeq !== undefined) add('seq < ?', q.beforeSeq);
    params.push(q.limit);
    const rows = await this.db.query(
      `SELECT * FROM events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map(toEventRecord);
  }

  /**
   * Events of one profile, newest first: those of its user ids, and those of its anonymous ids
   * that carry no user id of another profile.
   */
  async ofProfile(profileId: string, limit: number, type?: EventType): Promise<EventRecord[]> {
    const rows = await this.db.query(
      `WITH ids AS (SELECT namespace, value FROM identifiers WHERE profile_id = $1)
       SELECT * FROM events e WHERE e.seq IN (
         SELECT seq FROM events WHERE user_id IN (SELECT value FROM ids WHERE namespace = 'user_id')
         UNION ALL
         SELECT ev.seq FROM events ev
         WHERE ev.anonymous_id IN (SELECT value FROM ids WHERE namespace = 'anonymous_id')
           AND (ev.user_id IS NULL OR NOT EXISTS (
             SELECT 1 FROM identifiers u WHERE u.namespace = 'user_id' AND u.value = ev.user_id))
       ) ${type ? 'AND e.type = $3' : ''}
       ORDER BY e.timestamp DESC, e.seq DESC LIMIT $2`,
      type ? [profileId, limit, type] : [profileId, limit],
    );
    return rows.map(toEventRecord);
  }

  /** `source_id:message_id` of the events received since `since`, to rebuild the dedupe window. */
  async recentMessageKeys(since: Date, onBatch: (keys: string[], receivedAt: Date[]) => void): Promise<void> {
    let afterSeq = 0;
    for (;;) {
      const rows = await this.db.query<{
        seq: number;
        source_id: string;
        message_id: string;
        received_at: Date;
      }>(
        'SELECT seq, source_id, message_id, received_at FROM events WHERE received_at >= $1 AND seq > $2 ORDER BY seq LIMIT 100000',
        [since, afterSeq],
      );
      if (rows.length === 0) return;
      onBatch(
        rows.map((r) => `${r.source_id}:${r.message_id}`),
        rows.map((r) => r.received_at),
      );
      afterSeq = rows[rows.length - 1]!.seq;
    }
  }

  async deleteImport(importId: string): Promise<void> {
    await this.db.query(
      `DELETE FROM consent_statements WHERE ref_kind = 'event'
       AND ref_seq IN (SELECT seq FROM events WHERE import_id = $1)`,
      [importId],
    );
    await retireSeqs(this.db, 'events');
    await this.db.query('DELETE FROM events WHERE import_id = $1', [importId]);
  }
}

function toEventRecord(r: Record<string, unknown>): EventRecord {
  return {
    seq: r.seq as number,
    messageId: r.message_id as string,
    sourceId: r.source_id as string,
    type: r.type as EventType,
    userId: r.user_id as string | null,
    anonymousId: r.anonymous_id as string | null,
    event: r.event as string | null,
    groupId: r.group_id as string | null,
    previousId: r.previous_id as string | null,
    timestamp: r.timestamp as Date,
    originalTimestamp: r.original_timestamp as Date | null,
    sentAt: r.sent_at as Date | null,
    receivedAt: r.received_at as Date,
    properties: readJson(r.properties),
    traits: readJson(r.traits),
    context: readJson(r.context),
  };
}
