import { createHash } from 'node:crypto';
import {
  type CreateOrchestration,
  type Issue,
  NotFoundError,
  newId,
  type UpdateOrchestration,
  UserError,
} from '../core/index.js';
import type { Delivery, DeliveryRecord } from '../delivery/index.js';
import { checkSchedule, type ScheduledRun, type Scheduler } from '../scheduler/index.js';
import {
  type Cell,
  type OrchestrationRun,
  type Store,
  type StoredOrchestration,
  WORKSPACE_VIEWS,
} from '../store/index.js';
import { PolicyChecker, policyError, querySources } from './governance/index.js';

/** The scheduler's kind for orchestrations: schedules are `orchestration:<id>`. */
const KIND = 'orchestration';

export interface OrchestrationOptions {
  log: { info(message: string): void; error(message: string, err?: unknown): void };
  now?: () => Date;
  /** Longest the engine may work on a run's query (default 10 minutes). */
  queryTimeoutMs?: number;
  /** Longest the engine may work on a preview or a check (default 30 seconds). */
  previewTimeoutMs?: number;
}

/** An orchestration with where its schedule stands. */
export interface OrchestrationView extends StoredOrchestration {
  /** When the schedule runs it next; null when disabled or nothing more is due. */
  nextRunAt: Date | null;
  lastRun: OrchestrationRun | null;
}

/** A query's columns and first rows. */
export interface QueryPreview {
  columns: string[];
  rows: DeliveryRecord[];
}

/**
 * Orchestrations: a read-only SQL query over the workspace views, sent on a schedule to a file
 * destination. A run streams the query's rows into the outbox under a run id made of the
 * orchestration and its due time, so a run repeated for the same due time (a crash, a retry)
 * enqueues nothing twice. With `skipUnchanged`, a run whose result hashes the same as the last
 * successful run's sends nothing.
 */
export class OrchestrationService {
  private readonly now: () => Date;
  private readonly queryTimeoutMs: number;
  private readonly previewTimeoutMs: number;
  private readonly log: OrchestrationOptions['log'];

  /** Registers the scheduler's handler for orchestrations. */
  private readonly policies: PolicyChecker;

  constructor(
    private readonly store: Store,
    private readonly delivery: Delivery,
    private readonly scheduler: Pick<Scheduler, 'handle' | 'schedule' | 'unschedule'>,
    options: OrchestrationOptions,
  ) {
    this.now = options.now ?? (() => new Date());
    this.queryTimeoutMs = options.queryTimeoutMs ?? 600_000;
    this.previewTimeoutMs = options.previewTimeoutMs ?? 30_000;
    this.log = options.log;
    this.policies = new PolicyChecker(store);
    scheduler.handle(KIND, (run) => this.runScheduled(run));
  }

  async list(): Promise<OrchestrationView[]> {
    return Promise.all((await this.store.orchestrations.list()).map((o) => this.view(o)));
  }

  async get(id: string): Promise<OrchestrationView> {
    return this.view(await this.store.orchestrations.get(id));
  }

  runs(id: string, limit?: number): Promise<OrchestrationRun[]> {
    return this.store.orchestrations.runs(id, limit);
  }

  /** The views a query may read, each with its columns. */
  async views(): Promise<{ name: string; description: string; columns: string[] }[]> {
    return Promise.all(
      WORKSPACE_VIEWS.map(async (v) => ({
        name: v.name,
        description: v.description,
        columns: await this.store.workspaceQueries.describe(`SELECT * FROM ${v.name}`, this.previewTimeoutMs),
      })),
    );
  }

  /** A query's columns and its first `limit` rows; a query that is refused or fails says why, naming `query`. */
  preview(query: string, limit = 50): Promise<QueryPreview> {
    return this.store.workspaceQueries.read(
      query,
      { limit, timeoutMs: this.previewTimeoutMs },
      async (columns, pages) => {
        const rows: DeliveryRecord[] = [];
        for await (const page of pages) rows.push(...page.map((cells) => recordOf(columns, cells)));
        return { columns, rows };
      },
    );
  }

  /** Creates an orchestration, checking every field first (all problems at once), and schedules it when enabled. */
  async create(input: CreateOrchestration): Promise<OrchestrationView> {
    const { columns } = await this.check(input);
    await this.refusePolicyViolations(input.name, input.destinationId, input.query, columns!);
    const now = this.now();
    const orchestration: StoredOrchestration = {
      id: newId('orch'),
      ...input,
      columns: columns!,
      createdAt: now,
      updatedAt: now,
    };
    await this.store.orchestrations.create(orchestration);
    if (orchestration.enabled) await this.scheduler.schedule(KIND, orchestration.id, orchestration.schedule);
    return this.view(orchestration);
  }

  /** Changes the fields given; the schedule starts over only when `schedule` or `enabled` is among them. */
  async update(id: string, input: UpdateOrchestration): Promise<OrchestrationView> {
    const current = await this.store.orchestrations.get(id);
    const { columns } = await this.check(input);
    const next: StoredOrchestration = {
      ...current,
      name: input.name ?? current.name,
      query: input.query ?? current.query,
      destinationId: input.destinationId ?? current.destinationId,
      schedule: input.schedule ?? current.schedule,
      skipUnchanged: input.skipUnchanged ?? current.skipUnchanged,
      enabled: input.enabled ?? current.enabled,
      columns: columns ?? current.columns,
      updatedAt: this.now(),
    };
    await this.refusePolicyViolations(next.name, next.destinationId, next.query, next.columns);
    await this.store.orchestrations.update(next);
    if (input.schedule !== undefined || input.enabled !== undefined) {
      if (next.enabled) await this.scheduler.schedule(KIND, id, next.schedule);
      else await this.scheduler.unschedule(KIND, id);
    }
    return this.view(next);
  }

  /** Deletes an orchestration and its schedule; what it enqueued stays in the outbox. */
  async delete(id: string): Promise<void> {
    await this.store.orchestrations.get(id);
    await this.scheduler.unschedule(KIND, id);
    await this.store.orchestrations.delete(id);
  }

  /** Runs an orchestration now, whether or not it is enabled. */
  runNow(id: string): Promise<OrchestrationRun> {
    return this.run(id, this.now());
  }

  /**
   * Runs an orchestration for one due time. A due time that already succeeded is not run again;
   * one that failed or was cut short runs again, and the outbox keeps anything from the first
   * attempt from being enqueued twice. A problem with the query or the destination fails the
   * run (recorded, returned); anything else is thrown after it is recorded.
   */
  async run(id: string, dueAt: Date): Promise<OrchestrationRun> {
    const orchestration = await this.store.orchestrations.get(id);
    const runId = runIdOf(id, dueAt);
    const existing = await this.store.orchestrations.run(runId);
    if (existing?.status === 'succeeded') return existing;
    await this.store.orchestrations.start({ id: runId, orchestrationId: id, dueAt, startedAt: this.now() });
    try {
      const outcome = await this.send(orchestration, runId, dueAt);
      return await this.store.orchestrations.finish(runId, {
        status: 'succeeded',
        finishedAt: this.now(),
        error: undefined,
        ...outcome,
      });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.log.error(`orchestration ${orchestration.name} failed: ${message}`);
      const failed = await this.store.orchestrations.finish(runId, {
        status: 'failed',
        finishedAt: this.now(),
        rowCount: undefined,
        resultHash: undefined,
        skipped: false,
        error: message,
        runId: undefined,
      });
      if (err instanceof UserError) return failed;
      throw err;
    }
  }

  private async send(
    o: StoredOrchestration,
    runId: string,
    dueAt: Date,
  ): Promise<Pick<OrchestrationRun, 'rowCount' | 'resultHash' | 'skipped' | 'runId'>> {
    if (o.skipUnchanged) {
      // A first pass only hashes: nothing is staged in the outbox for a result that is not sent.
      // When the result changed, the second pass reads it again and records the hash of what it sent.
      const previous = await this.store.orchestrations.lastSucceeded(o.id, runId);
      if (previous?.resultHash !== undefined) {
        const current = await this.read(o.query, (_columns, rows) => drain(rows));
        if (current.hash === previous.resultHash) {
          return { rowCount: current.rows, resultHash: current.hash, skipped: true, runId: undefined };
        }
      }
    }
    const sent = await this.read(o.query, async (columns, rows) => {
      // Checked again before anything is staged: a label or a policy may have come since it was saved.
      await this.refusePolicyViolations(o.name, o.destinationId, o.query, columns);
      await this.store.orchestrations.setColumns(o.id, columns);
      return this.delivery.outbox.enqueue({
        destinationId: o.destinationId,
        activation: { id: o.id, name: o.name },
        runId,
        runAt: dueAt,
        operation: 'add',
        fields: columns,
        rows,
      });
    });
    // Enqueued by an earlier attempt (this one read no rows): what it sent is not known here.
    if (!sent.value.created) return { rowCount: undefined, resultHash: undefined, skipped: false, runId };
    return { rowCount: sent.rows, resultHash: sent.hash, skipped: false, runId };
  }

  /**
   * Runs a query and hands its rows, as records, to `consume`, hashing what it reads: SHA-256 of
   * the columns and then each row's values, in the query's order.
   */
  private async read<T>(
    query: string,
    consume: (columns: string[], rows: AsyncIterable<DeliveryRecord[]>) => Promise<T>,
  ): Promise<{ value: T; hash: string; rows: number }> {
    const hash = createHash('sha256');
    let count = 0;
    const value = await this.store.workspaceQueries.read(
      query,
      { timeoutMs: this.queryTimeoutMs },
      (columns, pages) => {
        hash.update(`${JSON.stringify(columns)}\n`);
        async function* rows(): AsyncGenerator<DeliveryRecord[]> {
          for await (const page of pages) {
            for (const cells of page) hash.update(`${JSON.stringify(cells)}\n`);
            count += page.length;
            yield page.map((cells) => recordOf(columns, cells));
          }
        }
        return consume(columns, rows());
      },
    );
    return { value, hash: hash.digest('hex'), rows: count };
  }

  /**
   * Checks the fields given: the destination exists and takes files, the query is read-only and
   * runs (its columns are what a data-usage policy would check), the cron expression parses.
   */
  private async check(input: UpdateOrchestration): Promise<{ columns: string[] | undefined }> {
    const issues: Issue[] = [];
    const collect = (err: unknown) => {
      if (!(err instanceof UserError) || err.issues.length === 0) throw err;
      issues.push(...err.issues);
      return undefined;
    };
    if (input.destinationId !== undefined) {
      const destination = await this.delivery.destinations.get(input.destinationId).catch((err) => {
        if (!(err instanceof NotFoundError)) throw err;
        const message = `no destination ${input.destinationId}`;
        issues.push({ code: 'not_found', path: ['destinationId'], message });
        return undefined;
      });
      if (destination && destination.capabilities.kind !== 'file') {
        issues.push({
          code: 'not_a_file_destination',
          path: ['destinationId'],
          message: `${destination.name} (${destination.connector}) does not take files: an orchestration sends its result as a file (folder, S3, SFTP)`,
        });
      }
    }
    const columns =
      input.query === undefined
        ? undefined
        : await this.store.workspaceQueries.describe(input.query, this.previewTimeoutMs).catch(collect);
    if (input.schedule !== undefined) {
      try {
        checkSchedule(input.schedule);
      } catch (err) {
        collect(err);
      }
    }
    if (issues.length > 0) {
      const first = issues[0]!;
      throw new UserError(
        'invalid_input',
        `invalid orchestration at ${first.path.join('.')}: ${first.message}`,
        issues,
      );
    }
    return { columns };
  }

  /** Refuses a query whose result would carry a value a data-usage policy forbids at the destination. */
  private async refusePolicyViolations(
    name: string,
    destinationId: string,
    query: string,
    columns: readonly string[],
  ): Promise<void> {
    const issues = await this.policies.checkFields(destinationId, querySources(query, columns), ['query']);
    // The pseudo-field (the source itself) adds nothing to the path: the query is what to change.
    if (issues.length > 0)
      throw policyError(
        `orchestration ${name}`,
        issues.map((i) => ({ ...i, path: ['query'] })),
      );
  }

  private async runScheduled(run: ScheduledRun): Promise<void> {
    const orchestration = await this.store.orchestrations.get(run.subjectId);
    // Disabled after the run was claimed: the schedule is gone already.
    if (!orchestration.enabled) return;
    const result = await this.run(orchestration.id, run.dueAt);
    if (result.status === 'failed') throw new Error(result.error);
  }

  private async view(o: StoredOrchestration): Promise<OrchestrationView> {
    const schedule = await this.store.schedules.get(KIND, o.id);
    const [lastRun] = await this.store.orchestrations.runs(o.id, 1);
    return { ...o, nextRunAt: schedule?.nextRunAt ?? null, lastRun: lastRun ?? null };
  }
}

/** The run id of one due time: `orch_x.20260327T090000Z` (also the outbox's run id, and so in file names). */
function runIdOf(orchestrationId: string, dueAt: Date): string {
  return `${orchestrationId}.${dueAt.toISOString().replace(/[-:]/g, '').replace('.000Z', 'Z')}`;
}

function recordOf(columns: readonly string[], cells: readonly Cell[]): DeliveryRecord {
  const record: DeliveryRecord = {};
  for (let i = 0; i < columns.length; i++) record[columns[i]!] = cells[i] ?? null;
  return record;
}

/** Reads every page (the reading is what matters: it hashes them). */
async function drain(pages: AsyncIterable<unknown>): Promise<void> {
  const iterator = pages[Symbol.asyncIterator]();
  while (!(await iterator.next()).done);
}
