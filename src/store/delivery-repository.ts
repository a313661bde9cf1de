import type { DeliveryStatus } from '../core/index.js';
import type { Database, SqlValue } from './database.js';
import type { DeliveryPayloads } from './delivery-payloads.js';
import { readJson } from './dialect.js';
import { storableJson } from './storable-text.js';

/** One batch in the outbox, with its receipt once the destination answered. */
export interface StoredDelivery {
  id: string;
  seq: number;
  destinationId: string;
  activation: { id: string; name: string };
  runId: string;
  group: string | undefined;
  runAt: Date;
  operation: 'add' | 'remove';
  index: number;
  count: number;
  fields: string[];
  rowCount: number;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: Date;
  leaseOwner: string | undefined;
  leaseUntil: Date | undefined;
  createdAt: Date;
  windowStartedAt: Date | undefined;
  lastAttemptAt: Date | undefined;
  finishedAt: Date | undefined;
  lastError: string | undefined;
  lastStatus: number | undefined;
  receipt: DeliveryReceipt | undefined;
}

/** What the destination made of a delivery, and how long the successful attempt took. */
export interface DeliveryReceipt {
  accepted: number;
  rejected: number;
  rejections: { row?: number; reason: string; count?: number }[];
  detail: Record<string, unknown>;
  durationMs: number;
}

/** A delivery about to be written, rows already staged under its id. */
export type NewDelivery = Pick<
  StoredDelivery,
  | 'id'
  | 'destinationId'
  | 'activation'
  | 'runId'
  | 'group'
  | 'runAt'
  | 'operation'
  | 'index'
  | 'count'
  | 'fields'
  | 'rowCount'
>;

export interface DeliveryAttempt {
  attempt: number;
  startedAt: Date;
  durationMs: number;
  outcome: 'delivered' | 'retry' | 'refused' | 'gone' | 'dead';
  status: number | undefined;
  error: string | undefined;
}

/** The head of a destination's queue, as a worker finds it. */
export type Claim =
  | { kind: 'empty' }
  | { kind: 'wait'; until: Date }
  | { kind: 'claimed'; delivery: StoredDelivery };

type Row = Record<string, unknown> & {
  id: string;
  seq: number;
  destination_id: string;
  activation_id: string;
  activation_name: string;
  run_id: string;
  group_name: string | null;
  run_at: Date;
  operation: string;
  batch_index: number;
  batch_count: number;
  fields: unknown;
  row_count: number;
  status: string;
  attempts: number;
  next_attempt_at: Date;
  lease_owner: string | null;
  lease_until: Date | null;
  created_at: Date;
  window_started_at: Date | null;
  last_attempt_at: Date | null;
  finished_at: Date | null;
  last_error: string | null;
  last_status: number | null;
  accepted: number | null;
  rejected: number | null;
  rejections: unknown;
  detail: unknown;
  duration_ms: number | null;
};

const orUndefined = <T>(v: T | null): T | undefined => (v === null ? undefined : v);

const toDelivery = (r: Row): StoredDelivery => ({
  id: r.id,
  seq: Number(r.seq),
  destinationId: r.destination_id,
  activation: { id: r.activation_id, name: r.activation_name },
  runId: r.run_id,
  group: orUndefined(r.group_name),
  runAt: r.run_at,
  operation: r.operation as 'add' | 'remove',
  index: r.batch_index,
  count: r.batch_count,
  fields: readJson(r.fields) as unknown as string[],
  rowCount: Number(r.row_count),
  status: r.status as DeliveryStatus,
  attempts: r.attempts,
  nextAttemptAt: r.next_attempt_at,
  leaseOwner: orUndefined(r.lease_owner),
  leaseUntil: orUndefined(r.lease_until),
  createdAt: r.created_at,
  windowStartedAt: orUndefined(r.window_started_at),
  lastAttemptAt: orUndefined(r.last_attempt_at),
  finishedAt: orUndefined(r.finished_at),
  lastError: orUndefined(r.last_error),
  lastStatus: orUndefined(r.last_status),
  receipt:
    r.accepted === null
      ? undefined
      : {
          accepted: Number(r.accepted),
          rejected: Number(r.rejected ?? 0),
          rejections: readJson(r.rejections) as unknown as DeliveryReceipt['rejections'],
          detail: readJson(r.detail),
          durationMs: Number(r.duration_ms ?? 0),
        },
});

/** The outbox: deliveries, their staged rows, their attempts and receipts. */
export class DeliveryRepository {
  constructor(
    private readonly db: Database,
    private readonly payloads: DeliveryPayloads,
  ) {}

  /** The ids of the deliveries already made for a subject (`<run>:<destination>:<part>:`), in batch order. */
  async idsOf(runId: string, destinationId: string, prefix: string): Promise<string[]> {
    const rows = await this.db.query<{ id: string }>(
      'SELECT id FROM deliveries WHERE run_id = $1 AND destination_id = $2 AND starts_with(id, $3) ORDER BY batch_index',
      [runId, destinationId, prefix],
    );
    return rows.map((r) => r.id);
  }

  /** Drops rows staged under `prefix` by an enqueue that never finished (a crash before its deliveries were written). */
  dropStaged(prefix: string): Promise<void> {
    return this.payloads.dropPrefix(prefix);
  }

  /** Stages a chunk of rows of a delivery-to-be (as text the delivery module made), numbered from `firstPosition`. */
  async stage(deliveryId: string, firstPosition: number, rowCount: number, records: string): Promise<void> {
    if (rowCount > 0) await this.payloads.stage(deliveryId, firstPosition, rowCount, records);
  }

  /** Writes deliveries whose rows are staged, in one transaction, due now and in order. */
  async create(deliveries: readonly NewDelivery[], now: Date): Promise<void> {
    if (deliveries.length === 0) return;
    await this.db.writeSequenced('deliveries', async (tx, reserve) => {
      const first = await reserve(deliveries.length);
      await tx.bulkInsert(
        'deliveries',
        COLUMNS,
        deliveries.map((d, i) => [
          d.id,
          first + i,
          d.destinationId,
          d.activation.id,
          d.activation.name,
          d.runId,
          d.group ?? null,
          d.runAt,
          d.operation,
          d.index,
          d.count,
          JSON.stringify(d.fields),
          d.rowCount,
          'pending',
          0,
          now,
          null,
          null,
          now,
          // The retry window runs from the enqueue: deliveries queued behind a failing one do not
          // each get a window of their own once they reach the head.
          now,
          ...Array<SqlValue>(COLUMNS.length - 20).fill(null),
        ]),
      );
    });
  }

  /**
   * Takes the head of a destination's queue (its oldest unfinished delivery) if it is due, for
   * `leaseMs`: another worker takes it over only once the lease runs out (its holder died).
   * Deliveries to one destination go strictly in order, so an add and a later remove never swap.
   */
  async claim(destinationId: string, owner: string, now: Date, leaseMs: number): Promise<Claim> {
    return this.db.transaction(async (tx) => {
      const lock = tx.dialect.name === 'postgres' ? 'FOR UPDATE' : '';
      const rows = await tx.query<Row>(
        `SELECT * FROM deliveries WHERE destination_id = $1 AND status IN ('pending', 'sending')
         ORDER BY seq LIMIT 1 ${lock}`,
        [destinationId],
      );
      const head = rows[0];
      if (!head) return { kind: 'empty' };
      // One at a time per destination, even when a replay put an older delivery at the head.
      const busy = await tx.query<{ lease_until: Date }>(
        `SELECT lease_until FROM deliveries WHERE destination_id = $1 AND status = 'sending' AND lease_until > $2
         ORDER BY lease_until LIMIT 1`,
        [destinationId, now],
      );
      if (busy[0]) return { kind: 'wait', until: busy[0].lease_until };
      if (head.status === 'sending' && head.lease_until && head.lease_until > now) {
        return { kind: 'wait', until: head.lease_until };
      }
      if (head.status === 'pending' && head.next_attempt_at > now)
        return { kind: 'wait', until: head.next_attempt_at };
      const updated = await tx.query<Row>(
        `UPDATE deliveries SET status = 'sending', lease_owner = $2, lease_until = $3, attempts = attempts + 1,
           last_attempt_at = $4, window_started_at = COALESCE(window_started_at, $4)
         WHERE id = $1 RETURNING *`,
        [head.id, owner, new Date(now.getTime() + leaseMs), now],
      );
      return { kind: 'claimed', delivery: toDelivery(updated[0]!) };
    });
  }

  /** Extends a lease this worker still holds; false when it lost it. */
  async renewLease(id: string, owner: string, until: Date): Promise<boolean> {
    const rows = await this.db.query(
      `UPDATE deliveries SET lease_until = $3 WHERE id = $1 AND lease_owner = $2 AND status = 'sending' RETURNING id`,
      [id, owner, until],
    );
    return rows.length > 0;
  }

  /** Leases held by a process that is gone (a DuckDB store has one process: all of them at start). */
  async releaseLeases(owner?: string): Promise<number> {
    const rows = await this.db.query(
      `UPDATE deliveries SET status = 'pending', lease_owner = NULL, lease_until = NULL
       WHERE status = 'sending' ${owner ? 'AND lease_owner = $1' : ''} RETURNING id`,
      owner ? [owner] : [],
    );
    return rows.length;
  }

  /** The destination confirmed the delivery: keep the receipt, drop the rows. False when the lease was lost. */
  async delivered(
    id: string,
    owner: string,
    at: Date,
    receipt: DeliveryReceipt,
    attempt: DeliveryAttempt,
  ): Promise<boolean> {
    const applied = await this.db.transaction(async (tx) => {
      const updated = await tx.query(
        `UPDATE deliveries SET status = 'delivered', lease_owner = NULL, lease_until = NULL, finished_at = $3,
           accepted = $4, rejected = $5, rejections = $6, detail = $7, duration_ms = $8, last_error = NULL, last_status = NULL
         WHERE id = $1 AND lease_owner = $2 RETURNING id`,
        [
          id,
          owner,
          at,
          receipt.accepted,
          receipt.rejected,
          storableJson(receipt.rejections.slice(0, 100)),
          storableJson(receipt.detail),
          receipt.durationMs,
        ],
      );
      // A lease lost to another process: its holder records the outcome and keeps the rows.
      if (updated.length === 0) return false;
      await insertAttempt(tx, id, attempt);
      if (this.payloads.inDatabase) await this.payloads.drop(id, tx);
      return true;
    });
    // Files go once the receipt is committed: a crash in between leaves only garbage, never a loss.
    if (applied && !this.payloads.inDatabase) await this.payloads.drop(id, this.db);
    return applied;
  }

  /** Gives a claimed delivery back, due now, without counting an attempt (shutdown, no scratch space). */
  async release(id: string, owner: string): Promise<void> {
    await this.db.query(
      `UPDATE deliveries SET status = 'pending', lease_owner = NULL, lease_until = NULL, attempts = attempts - 1
       WHERE id = $1 AND lease_owner = $2 AND status = 'sending'`,
      [id, owner],
    );
  }

  /** The attempt failed: try again at `nextAttemptAt`, or (undefined) dead-letter it. */
  async failed(
    id: string,
    owner: string,
    nextAttemptAt: Date | undefined,
    attempt: DeliveryAttempt,
  ): Promise<void> {
    await this.db.transaction(async (tx) => {
      const updated = await tx.query(
        `UPDATE deliveries SET status = $3, next_attempt_at = COALESCE($4, next_attempt_at), lease_owner = NULL,
           lease_until = NULL, last_error = $5, last_status = $6, finished_at = $7
         WHERE id = $1 AND lease_owner = $2 RETURNING id`,
        [
          id,
          owner,
          nextAttemptAt ? 'pending' : 'dead',
          nextAttemptAt ?? null,
          attempt.error ?? null,
          attempt.status ?? null,
          nextAttemptAt ? null : new Date(attempt.startedAt.getTime() + attempt.durationMs),
        ],
      );
      if (updated.length > 0) await insertAttempt(tx, id, attempt);
    });
  }

  /** Sends a dead-lettered delivery again, now, with a fresh retry window. False when it is not dead. */
  async replay(id: string, now: Date): Promise<boolean> {
    const rows = await this.db.query(
      `UPDATE deliveries SET status = 'pending', next_attempt_at = $2, window_started_at = $2, finished_at = NULL,
         attempts = 0
       WHERE id = $1 AND status = 'dead' RETURNING id`,
      [id, now],
    );
    return rows.length > 0;
  }

  /** Replays every dead-lettered delivery of a destination, oldest first; returns how many. */
  async replayDead(destinationId: string, now: Date): Promise<number> {
    const rows = await this.db.query(
      `UPDATE deliveries SET status = 'pending', next_attempt_at = $2, window_started_at = $2, finished_at = NULL,
         attempts = 0
       WHERE destination_id = $1 AND status = 'dead' RETURNING id`,
      [destinationId, now],
    );
    return rows.length;
  }

  /** Gives a destination's waiting deliveries a fresh retry window (it was just enabled again). */
  async restartWindows(destinationId: string, now: Date): Promise<void> {
    await this.db.query(
      `UPDATE deliveries SET window_started_at = $2, next_attempt_at = $2 WHERE destination_id = $1 AND status = 'pending'`,
      [destinationId, now],
    );
  }

  /** A delivery's staged chunks in order, as staged. */
  chunks(id: string): AsyncGenerator<string> {
    return this.payloads.chunks(id);
  }

  async get(id: string): Promise<StoredDelivery | undefined> {
    const rows = await this.db.query<Row>('SELECT * FROM deliveries WHERE id = $1', [id]);
    return rows[0] ? toDelivery(rows[0]) : undefined;
  }

  async attempts(id: string): Promise<DeliveryAttempt[]> {
    const rows = await this.db.query<{
      attempt: number;
      started_at: Date;
      duration_ms: number;
      outcome: string;
      status: number | null;
      error: string | null;
    }>('SELECT * FROM delivery_attempts WHERE delivery_id = $1 ORDER BY attempt, started_at', [id]);
    return rows.map((r) => ({
      attempt: r.attempt,
      startedAt: r.started_at,
      durationMs: Number(r.duration_ms),
      outcome: r.outcome as DeliveryAttempt['outcome'],
      status: orUndefined(r.status),
      error: orUndefined(r.error),
    }));
  }

  /** Deliveries newest first, optionally of one destination, status or run; `before` is a seq to page from. */
  async list(filter: {
    destinationId?: string | undefined;
    status?: DeliveryStatus | undefined;
    runId?: string | undefined;
    before?: number | undefined;
    limit: number;
  }): Promise<StoredDelivery[]> {
    const where: string[] = [];
    const params: SqlValue[] = [];
    const add = (sql: string, value: SqlValue) => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (filter.destinationId) add('destination_id = ?', filter.destinationId);
    if (filter.status) add('status = ?', filter.status);
    if (filter.runId) add('run_id = ?', filter.runId);
    if (filter.before !== undefined) add('seq < ?', filter.before);
    params.push(filter.limit);
    const rows = await this.db.query<Row>(
      `SELECT * FROM deliveries ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map(toDelivery);
  }

  /** Destinations with deliveries still to send (pending, or sending under a lease). */
  async destinationsWithWork(): Promise<string[]> {
    const rows = await this.db.query<{ destination_id: string }>(
      `SELECT DISTINCT destination_id FROM deliveries WHERE status IN ('pending', 'sending')`,
    );
    return rows.map((r) => r.destination_id);
  }

  /** Deliveries per status for one destination. */
  async statusCounts(destinationId: string): Promise<Record<DeliveryStatus, number>> {
    const rows = await this.db.query<{ status: DeliveryStatus; n: number }>(
      'SELECT status, count(*) AS n FROM deliveries WHERE destination_id = $1 GROUP BY status',
      [destinationId],
    );
    const counts = { pending: 0, sending: 0, delivered: 0, dead: 0 };
    for (const r of rows) counts[r.status] = Number(r.n);
    return counts;
  }

  /** Rows per activation: waiting or being sent, accepted by the destination, and dead-lettered. */
  async activationTotals(): Promise<Map<string, { queued: number; sent: number; failed: number }>> {
    const rows = await this.db.query<{
      activation_id: string;
      status: DeliveryStatus;
      n: number;
      accepted: number | null;
    }>(
      `SELECT activation_id, status, sum(row_count) AS n, sum(accepted) AS accepted
       FROM deliveries GROUP BY activation_id, status`,
    );
    const out = new Map<string, { queued: number; sent: number; failed: number }>();
    for (const r of rows) {
      const totals = out.get(r.activation_id) ?? { queued: 0, sent: 0, failed: 0 };
      out.set(r.activation_id, totals);
      if (r.status === 'delivered') totals.sent += Number(r.accepted ?? 0);
      else if (r.status === 'dead') totals.failed += Number(r.n);
      else totals.queued += Number(r.n);
    }
    return out;
  }

  /** Whether a destination still has deliveries to send (it cannot be deleted then). */
  async hasWork(destinationId: string): Promise<boolean> {
    const rows = await this.db.query(
      `SELECT 1 FROM deliveries WHERE destination_id = $1 AND status IN ('pending', 'sending') LIMIT 1`,
      [destinationId],
    );
    return rows.length > 0;
  }
}

const COLUMNS = [
  'id',
  'seq',
  'destination_id',
  'activation_id',
  'activation_name',
  'run_id',
  'group_name',
  'run_at',
  'operation',
  'batch_index',
  'batch_count',
  'fields',
  'row_count',
  'status',
  'attempts',
  'next_attempt_at',
  'lease_owner',
  'lease_until',
  'created_at',
  'window_started_at',
  'last_attempt_at',
  'finished_at',
  'last_error',
  'last_status',
  'accepted',
  'rejected',
  'rejections',
  'detail',
  'duration_ms',
];

function insertAttempt(db: Database, id: string, a: DeliveryAttempt): Promise<unknown> {
  return db.query(
    `INSERT INTO delivery_attempts (delivery_id, attempt, started_at, duration_ms, outcome, status, error)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [id, a.attempt, a.startedAt, a.durationMs, a.outcome, a.status ?? null, a.error ?? null],
  );
}
