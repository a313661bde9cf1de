import type { Schedule } from '../core/index.js';
import type { Database } from './database.js';
import { readJson } from './dialect.js';
import { storableJson } from './storable-text.js';

/** A durable schedule: what runs (`kind`, `subjectId`), when next, and how its runs went. */
export interface StoredSchedule {
  id: string;
  kind: string;
  subjectId: string;
  schedule: Schedule;
  nextRunAt: Date | undefined;
  paused: boolean;
  leaseOwner: string | undefined;
  leaseUntil: Date | undefined;
  /** The due time of the latest run started (a recurrence's scheduled tick). */
  lastDueAt: Date | undefined;
  lastStartedAt: Date | undefined;
  lastFinishedAt: Date | undefined;
  lastError: string | undefined;
  runs: number;
}

type Row = {
  id: string;
  kind: string;
  subject_id: string;
  schedule: unknown;
  next_run_at: Date | null;
  paused: boolean;
  lease_owner: string | null;
  lease_until: Date | null;
  last_due_at: Date | null;
  last_started_at: Date | null;
  last_finished_at: Date | null;
  last_error: string | null;
  runs: number;
};

const orUndefined = <T>(v: T | null): T | undefined => (v === null ? undefined : v);

const toSchedule = (r: Row): StoredSchedule => ({
  id: r.id,
  kind: r.kind,
  subjectId: r.subject_id,
  schedule: readJson(r.schedule) as unknown as Schedule,
  nextRunAt: orUndefined(r.next_run_at),
  paused: r.paused,
  leaseOwner: orUndefined(r.lease_owner),
  leaseUntil: orUndefined(r.lease_until),
  lastDueAt: orUndefined(r.last_due_at),
  lastStartedAt: orUndefined(r.last_started_at),
  lastFinishedAt: orUndefined(r.last_finished_at),
  lastError: orUndefined(r.last_error),
  runs: Number(r.runs),
});

/** Schedules, claimed when due with a lease so that one subject never runs twice at once. */
export class ScheduleRepository {
  constructor(private readonly db: Database) {}

  /** Creates or replaces the schedule of a subject (its run history is kept). */
  async put(
    kind: string,
    subjectId: string,
    schedule: Schedule,
    nextRunAt: Date | undefined,
    now: Date,
  ): Promise<void> {
    const id = `${kind}:${subjectId}`;
    await this.db.transaction(async (tx) => {
      const updated = await tx.query(
        `UPDATE schedules SET schedule = $2, next_run_at = $3, paused = false, updated_at = $4 WHERE id = $1 RETURNING id`,
        [id, storableJson(schedule), nextRunAt ?? null, now],
      );
      if (updated.length > 0) return;
      await tx.query(
        `INSERT INTO schedules (id, kind, subject_id, schedule, next_run_at, paused, runs, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, false, 0, $6, $6)`,
        [id, kind, subjectId, storableJson(schedule), nextRunAt ?? null, now],
      );
    });
  }

  async get(kind: string, subjectId: string): Promise<StoredSchedule | undefined> {
    const rows = await this.db.query<Row>('SELECT * FROM schedules WHERE id = $1', [`${kind}:${subjectId}`]);
    return rows[0] ? toSchedule(rows[0]) : undefined;
  }

  async list(kind?: string): Promise<StoredSchedule[]> {
    const rows = await this.db.query<Row>(
      `SELECT * FROM schedules ${kind ? 'WHERE kind = $1' : ''} ORDER BY id`,
      kind ? [kind] : [],
    );
    return rows.map(toSchedule);
  }

  async setPaused(kind: string, subjectId: string, paused: boolean, now: Date): Promise<void> {
    await this.db.query('UPDATE schedules SET paused = $2, updated_at = $3 WHERE id = $1', [
      `${kind}:${subjectId}`,
      paused,
      now,
    ]);
  }

  async delete(kind: string, subjectId: string): Promise<void> {
    await this.db.query('DELETE FROM schedules WHERE id = $1', [`${kind}:${subjectId}`]);
  }

  /**
   * Takes one due schedule (not paused, not running under a live lease) for `leaseMs`, oldest due
   * first. A lease that ran out belongs to a process that died: its run is taken over.
   */
  async claimDue(owner: string, now: Date, leaseMs: number): Promise<StoredSchedule | undefined> {
    return this.db.transaction(async (tx) => {
      const lock = tx.dialect.name === 'postgres' ? 'FOR UPDATE SKIP LOCKED' : '';
      const rows = await tx.query<Row>(
        `SELECT * FROM schedules WHERE next_run_at <= $1 AND NOT paused AND (lease_until IS NULL OR lease_until <= $1)
         ORDER BY next_run_at LIMIT 1 ${lock}`,
        [now],
      );
      const due = rows[0];
      if (!due) return undefined;
      const claimed = await tx.query<Row>(
        `UPDATE schedules SET lease_owner = $2, lease_until = $3, last_due_at = next_run_at, last_started_at = $4
         WHERE id = $1 RETURNING *`,
        [due.id, owner, new Date(now.getTime() + leaseMs), now],
      );
      return toSchedule(claimed[0]!);
    });
  }

  async renewLease(id: string, owner: string, until: Date): Promise<boolean> {
    const rows = await this.db.query(
      'UPDATE schedules SET lease_until = $3 WHERE id = $1 AND lease_owner = $2 RETURNING id',
      [id, owner, until],
    );
    return rows.length > 0;
  }

  /** Records a finished run and the next due time (undefined: nothing more is due). */
  async finished(
    id: string,
    owner: string,
    nextRunAt: Date | undefined,
    at: Date,
    error: string | undefined,
  ): Promise<void> {
    await this.db.query(
      `UPDATE schedules SET lease_owner = NULL, lease_until = NULL, next_run_at = $3, last_finished_at = $4,
         last_error = $5, runs = runs + 1
       WHERE id = $1 AND lease_owner = $2`,
      [id, owner, nextRunAt ?? null, at, error ?? null],
    );
  }

  /** The earliest time anything is due, to sleep until then. */
  async nextDue(): Promise<Date | undefined> {
    const rows = await this.db.query<{ due: Date | null }>(
      'SELECT min(next_run_at) AS due FROM schedules WHERE NOT paused',
    );
    return rows[0]?.due ?? undefined;
  }
}
