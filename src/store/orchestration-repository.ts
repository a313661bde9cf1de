import { NotFoundError, type Schedule, UserError } from '../core/index.js';
import type { Database } from './database.js';
import { readJson } from './dialect.js';
import { storableJson } from './storable-text.js';

/** An orchestration as stored: which query goes to which file destination, when. */
export interface StoredOrchestration {
  id: string;
  name: string;
  query: string;
  destinationId: string;
  schedule: Schedule;
  skipUnchanged: boolean;
  enabled: boolean;
  /** The query's output columns when it was last checked or run, in order. */
  columns: string[];
  createdAt: Date;
  updatedAt: Date;
}

export type OrchestrationRunStatus = 'running' | 'succeeded' | 'failed';

/** One run of an orchestration for one due time. */
export interface OrchestrationRun {
  /** `<orchestration id>.<due time>`: a repeated run of the same due time is the same run. */
  id: string;
  orchestrationId: string;
  status: OrchestrationRunStatus;
  dueAt: Date;
  startedAt: Date;
  finishedAt: Date | undefined;
  /** Rows in the result; undefined when not known (failed, or enqueued by an earlier attempt). */
  rowCount: number | undefined;
  /** SHA-256 of the columns and rows in the query's order; undefined when not known. */
  resultHash: string | undefined;
  /** Succeeded without sending: the result was the same as the last run's. */
  skipped: boolean;
  error: string | undefined;
  /** The outbox run its rows were enqueued under (see `GET /api/deliveries?run=`). */
  runId: string | undefined;
}

type OrchestrationRow = {
  id: string;
  name: string;
  query: string;
  destination_id: string;
  schedule: unknown;
  skip_unchanged: boolean;
  enabled: boolean;
  columns: unknown;
  created_at: Date;
  updated_at: Date;
};

type RunRow = {
  id: string;
  orchestration_id: string;
  status: OrchestrationRunStatus;
  due_at: Date;
  started_at: Date;
  finished_at: Date | null;
  row_count: number | null;
  result_hash: string | null;
  skipped: boolean;
  error: string | null;
  run_id: string | null;
};

const toOrchestration = (r: OrchestrationRow): StoredOrchestration => ({
  id: r.id,
  name: r.name,
  query: r.query,
  destinationId: r.destination_id,
  schedule: readJson(r.schedule) as unknown as Schedule,
  skipUnchanged: r.skip_unchanged,
  enabled: r.enabled,
  columns: (typeof r.columns === 'string' ? JSON.parse(r.columns) : r.columns) as string[],
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const toRun = (r: RunRow): OrchestrationRun => ({
  id: r.id,
  orchestrationId: r.orchestration_id,
  status: r.status,
  dueAt: r.due_at,
  startedAt: r.started_at,
  finishedAt: r.finished_at ?? undefined,
  rowCount: r.row_count === null ? undefined : Number(r.row_count),
  resultHash: r.result_hash ?? undefined,
  skipped: r.skipped,
  error: r.error ?? undefined,
  runId: r.run_id ?? undefined,
});

const nameConflict = (name: string) =>
  new UserError('conflict', `an orchestration named ${JSON.stringify(name)} already exists`, [
    { code: 'conflict', path: ['name'], message: 'name is taken' },
  ]);

/** Orchestrations and the record of their runs. */
export class OrchestrationRepository {
  constructor(private readonly db: Database) {}

  async list(): Promise<StoredOrchestration[]> {
    return (await this.db.query<OrchestrationRow>('SELECT * FROM orchestrations ORDER BY name')).map(
      toOrchestration,
    );
  }

  async get(id: string): Promise<StoredOrchestration> {
    const rows = await this.db.query<OrchestrationRow>('SELECT * FROM orchestrations WHERE id = $1', [id]);
    if (!rows[0]) throw new NotFoundError('orchestration', id);
    return toOrchestration(rows[0]);
  }

  async create(o: StoredOrchestration): Promise<void> {
    await this.db.transaction(async (tx) => {
      if ((await tx.query('SELECT 1 FROM orchestrations WHERE name = $1', [o.name])).length > 0) {
        throw nameConflict(o.name);
      }
      await tx.query(
        `INSERT INTO orchestrations (id, name, query, destination_id, schedule, skip_unchanged, enabled, columns, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [
          o.id,
          o.name,
          o.query,
          o.destinationId,
          storableJson(o.schedule),
          o.skipUnchanged,
          o.enabled,
          storableJson(o.columns),
          o.createdAt,
          o.updatedAt,
        ],
      );
    });
  }

  async update(o: StoredOrchestration): Promise<void> {
    await this.db.transaction(async (tx) => {
      const taken = await tx.query('SELECT 1 FROM orchestrations WHERE name = $1 AND id <> $2', [
        o.name,
        o.id,
      ]);
      if (taken.length > 0) throw nameConflict(o.name);
      const rows = await tx.query(
        `UPDATE orchestrations SET name = $2, query = $3, destination_id = $4, schedule = $5, skip_unchanged = $6,
           enabled = $7, columns = $8, updated_at = $9
         WHERE id = $1 RETURNING id`,
        [
          o.id,
          o.name,
          o.query,
          o.destinationId,
          storableJson(o.schedule),
          o.skipUnchanged,
          o.enabled,
          storableJson(o.columns),
          o.updatedAt,
        ],
      );
      if (rows.length === 0) throw new NotFoundError('orchestration', o.id);
    });
  }

  /** Records the columns a run found (the query's output can change with the data it reads, e.g. `SELECT *`). */
  async setColumns(id: string, columns: readonly string[]): Promise<void> {
    await this.db.query('UPDATE orchestrations SET columns = $2 WHERE id = $1', [id, storableJson(columns)]);
  }

  /** Deletes an orchestration and its run history (its deliveries stay in the outbox). */
  async delete(id: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      const rows = await tx.query('DELETE FROM orchestrations WHERE id = $1 RETURNING id', [id]);
      if (rows.length === 0) throw new NotFoundError('orchestration', id);
      await tx.query('DELETE FROM orchestration_runs WHERE orchestration_id = $1', [id]);
    });
  }

  async run(id: string): Promise<OrchestrationRun | undefined> {
    const rows = await this.db.query<RunRow>('SELECT * FROM orchestration_runs WHERE id = $1', [id]);
    return rows[0] ? toRun(rows[0]) : undefined;
  }

  /** An orchestration's runs, latest due time first. */
  async runs(orchestrationId: string, limit = 50): Promise<OrchestrationRun[]> {
    const rows = await this.db.query<RunRow>(
      'SELECT * FROM orchestration_runs WHERE orchestration_id = $1 ORDER BY due_at DESC, started_at DESC LIMIT $2',
      [orchestrationId, limit],
    );
    return rows.map(toRun);
  }

  /**
   * The run whose result the destination holds last: the latest to succeed other than `exceptId`
   * (skipped ones too: they found what the one before had sent).
   */
  async lastSucceeded(orchestrationId: string, exceptId: string): Promise<OrchestrationRun | undefined> {
    const rows = await this.db.query<RunRow>(
      `SELECT * FROM orchestration_runs WHERE orchestration_id = $1 AND id <> $2 AND status = 'succeeded'
       ORDER BY finished_at DESC LIMIT 1`,
      [orchestrationId, exceptId],
    );
    return rows[0] ? toRun(rows[0]) : undefined;
  }

  /** Starts (or, after a crash or a failure, starts again) the run of one due time. */
  async start(run: Pick<OrchestrationRun, 'id' | 'orchestrationId' | 'dueAt' | 'startedAt'>): Promise<void> {
    await this.db.transaction(async (tx) => {
      const restarted = await tx.query(
        `UPDATE orchestration_runs SET status = 'running', started_at = $2, finished_at = NULL, row_count = NULL,
           result_hash = NULL, skipped = false, error = NULL, run_id = NULL
         WHERE id = $1 RETURNING id`,
        [run.id, run.startedAt],
      );
      if (restarted.length > 0) return;
      await tx.query(
        `INSERT INTO orchestration_runs (id, orchestration_id, status, due_at, started_at, skipped)
         VALUES ($1, $2, 'running', $3, $4, false)`,
        [run.id, run.orchestrationId, run.dueAt, run.startedAt],
      );
    });
  }

  /** Records how a run ended. */
  async finish(
    id: string,
    outcome: Pick<
      OrchestrationRun,
      'status' | 'finishedAt' | 'rowCount' | 'resultHash' | 'skipped' | 'error' | 'runId'
    >,
  ): Promise<OrchestrationRun> {
    const rows = await this.db.query<RunRow>(
      `UPDATE orchestration_runs SET status = $2, finished_at = $3, row_count = $4, result_hash = $5, skipped = $6,
         error = $7, run_id = $8
       WHERE id = $1 RETURNING *`,
      [
        id,
        outcome.status,
        outcome.finishedAt ?? null,
        outcome.rowCount ?? null,
        outcome.resultHash ?? null,
        outcome.skipped,
        outcome.error ?? null,
        outcome.runId ?? null,
      ],
    );
    if (!rows[0]) throw new NotFoundError('orchestration run', id);
    return toRun(rows[0]);
  }
}
