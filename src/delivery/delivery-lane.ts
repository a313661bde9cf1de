import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { NotFoundError, UserError } from '../core/index.js';
import type { DeliveryAttempt, Store, StoredDelivery, StoredDestination } from '../store/index.js';
import { abortable } from './abortable.js';
import type { CircuitBreaker } from './circuit-breaker.js';
import { type Connector, type DeliveryBatch, DeliveryFailure, type FailureDisposition } from './connector.js';
import type { ConnectorRegistry } from './connector-registry.js';
import type { DestinationService } from './destination-service.js';
import { redact } from './redact.js';
import { retryDelay } from './retry-policy.js';
import { fromValueLines } from './value-lines.js';

/** What a lane needs from the engine that runs it. */
export interface LaneContext {
  store: Store;
  connectors: ConnectorRegistry;
  destinations: DestinationService;
  owner: string;
  leaseMs: number;
  tempDir: string;
  now: () => Date;
  random: () => number;
  log: { info(message: string): void; error(message: string, err?: unknown): void };
}

/**
 * One destination's queue worker: sends its deliveries one at a time, oldest first, so a slow or
 * failing destination holds up only itself. Retries wait with backoff (or as long as
 * `Retry-After` says), a circuit breaker stops attempts while the destination keeps failing, and
 * a delivery still failing after the retry window is dead-lettered.
 */
export class DeliveryLane {
  private stopped = false;
  /** Set by `wake()`: work may have arrived after the last claim found none. */
  private woken = false;
  private wakeUp: (() => void) | undefined;
  private lastStart = 0;
  private inFlight: AbortController | undefined;

  constructor(
    readonly destinationId: string,
    readonly breaker: CircuitBreaker,
    private readonly ctx: LaneContext,
  ) {}

  /** Runs until the queue is empty, the destination is disabled or deleted, or `stop()`. */
  async run(): Promise<void> {
    while (!this.stopped) {
      let destination: StoredDestination;
      try {
        destination = await this.ctx.store.destinations.get(this.destinationId);
      } catch (err) {
        if (err instanceof NotFoundError) return;
        throw err;
      }
      if (!destination.enabled) return;
      this.breaker.configure(destination.settings.breakerThreshold, destination.settings.breakerCooldownMs);
      const now = this.ctx.now().getTime();
      const blocked = this.breaker.blockedUntil(now);
      if (blocked !== undefined) {
        await this.sleep(blocked - now);
        continue;
      }
      const connector = this.ctx.connectors.get(destination.connector);
      const resolved = this.resolve(destination);
      const wait = this.rateLimitWait(connector, resolved, now);
      if (wait > 0) {
        await this.sleep(wait);
        continue;
      }
      this.woken = false;
      const claim = await this.ctx.store.deliveries.claim(
        destination.id,
        this.ctx.owner,
        this.ctx.now(),
        this.ctx.leaseMs,
      );
      if (claim.kind === 'empty') {
        if (this.woken) continue;
        return;
      }
      if (claim.kind === 'wait') {
        await this.sleep(claim.until.getTime() - now);
        continue;
      }
      this.lastStart = now;
      await this.attempt(destination, connector, claim.delivery, resolved);
    }
  }

  /** Cuts a wait short (new work, a replay, a changed destination). */
  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  /** Stops after the attempt under way; `abort` also cancels that attempt (it is retried later). */
  stop(abort = false): void {
    this.stopped = true;
    if (abort) this.inFlight?.abort(new ShuttingDown());
    this.wake();
  }

  /** The config and secrets of a destination, or why they cannot be had (which fails the attempt itself, with the reason in the receipt). */
  private resolve(destination: StoredDestination): Resolved {
    try {
      return this.ctx.destinations.resolve(destination);
    } catch (error) {
      return { error };
    }
  }

  private rateLimitWait(connector: Connector, resolved: Resolved, now: number): number {
    const perSecond =
      'error' in resolved ? undefined : connector.capabilities(resolved.config).rateLimitPerSecond;
    if (!perSecond) return 0;
    return Math.max(0, this.lastStart + 1000 / perSecond - now);
  }

  private async attempt(
    destination: StoredDestination,
    connector: Connector,
    delivery: StoredDelivery,
    resolved: Resolved,
  ): Promise<void> {
    const { store, leaseMs, owner } = this.ctx;
    const startedAt = this.ctx.now();
    const started = performance.now();
    let tempDir: string;
    try {
      tempDir = await mkdtemp(join(this.ctx.tempDir, 'delivery-'));
    } catch (err) {
      // No scratch space: give the delivery back rather than hold its lease.
      await store.deliveries.release(delivery.id, owner);
      throw err;
    }
    const controller = new AbortController();
    this.inFlight = controller;
    const timeout = setTimeout(
      () => controller.abort(new Error(`no result within ${destination.settings.attemptTimeoutMs} ms`)),
      destination.settings.attemptTimeoutMs,
    );
    let renewing: Promise<unknown> = Promise.resolve();
    const renew = setInterval(
      () => {
        renewing = store.deliveries
          .renewLease(delivery.id, owner, new Date(this.ctx.now().getTime() + leaseMs))
          .then((held) => {
            // Another process took the delivery over: stop, it sends under the same key.
            if (!held) controller.abort(new LeaseLost(delivery.id));
          })
          .catch((err) => this.ctx.log.error(`delivery ${delivery.id}: could not renew its lease`, err));
      },
      Math.max(50, Math.floor(leaseMs / 3)),
    );
    // The outcome is written after the last renewal settles: on DuckDB the two would conflict.
    const stopRenewing = async () => {
      clearInterval(renew);
      clearTimeout(timeout);
      await renewing;
    };
    const secretValues = 'error' in resolved ? [] : resolved.secrets;
    try {
      if ('error' in resolved) throw resolved.error;
      const result = await abortable(
        connector.deliver(
          { config: resolved.config, signal: controller.signal, tempDir },
          this.batchOf(delivery),
        ),
        controller.signal,
      );
      const durationMs = Math.round(performance.now() - started);
      await stopRenewing();
      await store.deliveries.delivered(
        delivery.id,
        owner,
        this.ctx.now(),
        { ...result, detail: result.detail ?? {}, durationMs },
        {
          attempt: delivery.attempts,
          startedAt,
          durationMs,
          outcome: 'delivered',
          status: undefined,
          error: undefined,
        },
      );
      this.breaker.succeeded();
    } catch (err) {
      await stopRenewing();
      const reason = controller.signal.reason;
      if (reason instanceof LeaseLost) {
        this.ctx.log.info(`delivery ${delivery.id}: another process took it over`);
      } else if (reason instanceof ShuttingDown) {
        // Not the destination's fault: no attempt counted, no backoff, sent again at the next start.
        await store.deliveries.release(delivery.id, owner);
      } else {
        const durationMs = Math.round(performance.now() - started);
        await this.failed(destination, delivery, err, secretValues, startedAt, durationMs);
      }
    } finally {
      this.inFlight = undefined;
      await rm(tempDir, { recursive: true, force: true });
    }
  }

  private async failed(
    destination: StoredDestination,
    delivery: StoredDelivery,
    err: unknown,
    secretValues: readonly string[],
    startedAt: Date,
    durationMs: number,
  ): Promise<void> {
    const { disposition, status, retryAfterMs } = classify(err);
    const message = redact(err instanceof Error ? err.message : String(err), secretValues);
    const now = this.ctx.now().getTime();
    let next: Date | undefined;
    if (disposition !== 'retry') this.breaker.succeeded();
    if (disposition === 'retry') {
      this.breaker.failed(now);
      const delay = retryDelay(destination.settings.retry, delivery.attempts, retryAfterMs, this.ctx.random);
      const windowStart = (delivery.windowStartedAt ?? startedAt).getTime();
      if (now + delay <= windowStart + destination.settings.retry.windowMs) next = new Date(now + delay);
    }
    const outcome: DeliveryAttempt['outcome'] = next
      ? 'retry'
      : disposition === 'retry'
        ? 'dead'
        : disposition;
    const error =
      next || disposition !== 'retry'
        ? message
        : `gave up after ${delivery.attempts} attempts within the retry window: ${message}`;
    await this.ctx.store.deliveries.failed(delivery.id, this.ctx.owner, next, {
      attempt: delivery.attempts,
      startedAt,
      durationMs,
      outcome,
      status,
      error,
    });
    this.ctx.log.error(
      `delivery ${delivery.id} to ${destination.name} failed (${outcome}${next ? `, next attempt ${next.toISOString()}` : ''}): ${message}`,
    );
    if (disposition === 'gone') {
      await this.ctx.store.destinations.setEnabled(
        destination.id,
        false,
        `the destination answered that it is gone: ${message}`,
        this.ctx.now(),
      );
    }
  }

  private batchOf(d: StoredDelivery): DeliveryBatch {
    const store = this.ctx.store;
    return {
      key: d.id,
      operation: d.operation,
      activation: d.activation,
      runId: d.runId,
      group: d.group,
      runAt: d.runAt,
      index: d.index,
      count: d.count,
      fields: d.fields,
      rowCount: d.rowCount,
      lines: () => counted(store.deliveries.chunks(d.id), countLines, d),
      rows: () =>
        counted(
          mapChunks(store.deliveries.chunks(d.id), (text) => fromValueLines(d.fields, text)),
          (rows) => rows.length,
          d,
        ),
    };
  }

  private sleep(ms: number): Promise<void> {
    // A wake that came while the lane was busy (claiming) ends the next wait at once.
    if (this.stopped || this.woken || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, Math.min(ms, 2 ** 31 - 1));
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = done;
    });
  }
}

type Resolved = { config: unknown; secrets: string[] } | { error: unknown };

/** Why an attempt was cut short by Sluice itself rather than failed by the destination. */
class ShuttingDown extends Error {
  constructor() {
    super('Sluice is shutting down');
  }
}
class LeaseLost extends Error {
  constructor(id: string) {
    super(`the lease on delivery ${id} passed to another process`);
  }
}

function classify(err: unknown): { disposition: FailureDisposition; status?: number; retryAfterMs?: number } {
  if (err instanceof DeliveryFailure) return { disposition: err.disposition, ...err.details };
  // A config the connector refuses will not fix itself; anything else (network, a crash inside a library) may.
  if (err instanceof UserError) return { disposition: 'refused' };
  return { disposition: 'retry' };
}

/**
 * Passes chunks through and checks at the end that they held the delivery's row count: rows that
 * went missing from the store (a lost payload file) must fail the attempt, never send a short batch.
 */
async function* counted<T>(
  chunks: AsyncIterable<T>,
  size: (chunk: T) => number,
  d: StoredDelivery,
): AsyncGenerator<T> {
  let rows = 0;
  for await (const chunk of chunks) {
    rows += size(chunk);
    yield chunk;
  }
  if (rows !== d.rowCount) {
    throw new UserError(
      'rows_missing',
      `delivery ${d.id} should hold ${d.rowCount} rows, but ${rows} are staged`,
    );
  }
}

async function* mapChunks<T, U>(chunks: AsyncIterable<T>, map: (chunk: T) => U): AsyncGenerator<U> {
  for await (const chunk of chunks) yield map(chunk);
}

function countLines(text: string): number {
  let lines = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lines += 1;
  return lines;
}
