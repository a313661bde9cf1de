import { newId, parseOrThrow, type Schedule, ScheduleSchema } from '../core/index.js';
import type { Store, StoredSchedule } from '../store/index.js';
import { checkSchedule, nextRunAfter } from './next-run.js';

/** One run of a scheduled subject: what it is and which due time it serves. */
export interface ScheduledRun {
  kind: string;
  subjectId: string;
  schedule: Schedule;
  dueAt: Date;
}

/** Runs a subject's scheduled work; throwing records the error (a recurrence still goes on). */
export type RunHandler = (run: ScheduledRun, signal: AbortSignal) => Promise<void>;

export interface SchedulerOptions {
  log: { info(message: string): void; error(message: string, err?: unknown): void };
  now?: () => Date;
  /** How long a started run stays this process's before another may take it over (renewed while it runs). */
  leaseMs?: number;
  /** How often to look for due schedules. */
  pollMs?: number;
}

/**
 * Durable schedules in the store: now, at a time, or recurring (cron in a time zone). A due
 * schedule is claimed under a lease, so the same subject never runs twice at once, in this process
 * or another; after downtime a recurrence runs once, not once per missed tick.
 */
export class Scheduler {
  private readonly handlers = new Map<string, RunHandler>();
  private readonly owner = newId('scheduler', 9);
  private readonly now: () => Date;
  private readonly leaseMs: number;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<number> | undefined;
  private readonly running = new Set<Promise<void>>();
  private readonly controller = new AbortController();

  constructor(
    private readonly store: Store,
    private readonly options: SchedulerOptions,
  ) {
    this.now = options.now ?? (() => new Date());
    this.leaseMs = options.leaseMs ?? 60_000;
  }

  /** Says what runs a kind of subject (`campaign`, `orchestration`, ...). */
  handle(kind: string, handler: RunHandler): void {
    this.handlers.set(kind, handler);
  }

  /** Creates or replaces a subject's schedule; errors name `schedule.<field>`. */
  async schedule(kind: string, subjectId: string, input: unknown): Promise<StoredSchedule> {
    const schedule = parseOrThrow(ScheduleSchema, input, 'schedule', ['schedule']);
    checkSchedule(schedule);
    const now = this.now();
    await this.store.schedules.put(kind, subjectId, schedule, nextRunAfter(schedule, now, false), now);
    return (await this.store.schedules.get(kind, subjectId))!;
  }

  pause(kind: string, subjectId: string): Promise<void> {
    return this.store.schedules.setPaused(kind, subjectId, true, this.now());
  }

  /** Resumes a paused schedule; a recurrence that missed ticks meanwhile runs once at the next tick of the scheduler. */
  resume(kind: string, subjectId: string): Promise<void> {
    return this.store.schedules.setPaused(kind, subjectId, false, this.now());
  }

  unschedule(kind: string, subjectId: string): Promise<void> {
    return this.store.schedules.delete(kind, subjectId);
  }

  /** Starts every due run (in parallel across subjects) and waits for them; returns how many ran. */
  tick(): Promise<number> {
    this.ticking ??= this.runDue().finally(() => {
      this.ticking = undefined;
    });
    return this.ticking;
  }

  start(): void {
    this.timer = setInterval(() => {
      void this.tick().catch((err) => this.options.log.error('scheduler: could not read the schedules', err));
    }, this.options.pollMs ?? 1000);
  }

  /** Stops looking for work and waits for the runs under way. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.ticking?.catch(() => {});
    await Promise.all(this.running);
  }

  private async runDue(): Promise<number> {
    const started: Promise<void>[] = [];
    for (;;) {
      const claimed = await this.store.schedules.claimDue(this.owner, this.now(), this.leaseMs);
      if (!claimed) break;
      const run = this.run(claimed);
      this.running.add(run);
      started.push(run.finally(() => this.running.delete(run)));
    }
    await Promise.all(started);
    return started.length;
  }

  private async run(claimed: StoredSchedule): Promise<void> {
    const handler = this.handlers.get(claimed.kind);
    const renew = setInterval(
      () => {
        void this.store.schedules
          .renewLease(claimed.id, this.owner, new Date(this.now().getTime() + this.leaseMs))
          .catch((err) => this.options.log.error(`scheduler: could not renew ${claimed.id}`, err));
      },
      Math.max(50, Math.floor(this.leaseMs / 3)),
    );
    let error: string | undefined;
    try {
      if (!handler) throw new Error(`nothing handles scheduled ${claimed.kind} runs`);
      await handler(
        {
          kind: claimed.kind,
          subjectId: claimed.subjectId,
          schedule: claimed.schedule,
          dueAt: claimed.lastDueAt!,
        },
        this.controller.signal,
      );
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
      this.options.log.error(`scheduled ${claimed.id} failed: ${error}`);
    } finally {
      clearInterval(renew);
    }
    // The next tick after now: ticks missed while this ran or Sluice was down collapse into one.
    const next = nextRunAfter(claimed.schedule, this.now(), true);
    await this.store.schedules.finished(claimed.id, this.owner, next, this.now(), error);
  }
}
