import { mkdir } from 'node:fs/promises';
import { newId } from '../core/index.js';
import type { Store } from '../store/index.js';
import { type BreakerState, CircuitBreaker } from './circuit-breaker.js';
import type { ConnectorRegistry } from './connector-registry.js';
import { DeliveryLane, type LaneContext } from './delivery-lane.js';
import type { DestinationService } from './destination-service.js';

export interface DeliveryEngineOptions {
  /** Scratch space for connectors (files being encoded); one subdirectory per attempt. */
  tempDir: string;
  log: LaneContext['log'];
  /** How long a claimed delivery stays this process's before another may take it over (renewed while sending). */
  leaseMs?: number;
  /** How often to look for deliveries enqueued by other processes or due for a retry. */
  pollMs?: number;
  /** How long `close()` lets attempts under way finish before it cancels them. */
  closeGraceMs?: number;
  now?: () => Date;
  random?: () => number;
}

/**
 * The delivery workers of one process: a lane per destination with work, each sending that
 * destination's deliveries in order, independently of the others. Several processes on one
 * PostgreSQL store share the work through leases on the deliveries.
 */
export class DeliveryEngine {
  private readonly lanes = new Map<string, { lane: DeliveryLane; done: Promise<void> }>();
  /** Kept across lanes: a destination that failed a moment ago is still suspect when new work arrives. */
  private readonly breakers = new Map<string, CircuitBreaker>();
  private readonly ctx: LaneContext;
  private readonly pollMs: number;
  private readonly closeGraceMs: number;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private polling: Promise<void> | undefined;

  constructor(
    private readonly store: Store,
    connectors: ConnectorRegistry,
    destinations: DestinationService,
    options: DeliveryEngineOptions,
  ) {
    this.pollMs = options.pollMs ?? 1000;
    this.closeGraceMs = options.closeGraceMs ?? 10_000;
    this.ctx = {
      store,
      connectors,
      destinations,
      owner: newId('worker', 9),
      leaseMs: options.leaseMs ?? 60_000,
      tempDir: options.tempDir,
      now: options.now ?? (() => new Date()),
      random: options.random ?? Math.random,
      log: options.log,
    };
  }

  /** Starts the lanes; on a DuckDB store (one process) deliveries left `sending` by a crash are taken back at once. */
  async start(): Promise<void> {
    await mkdir(this.ctx.tempDir, { recursive: true });
    if (this.store.engine === 'duckdb') {
      const released = await this.store.deliveries.releaseLeases();
      if (released > 0)
        this.ctx.log.info(`Delivery: ${released} deliveries interrupted by a stop will be sent again`);
    }
    this.timer = setInterval(() => void this.poll(), this.pollMs);
    await this.poll();
  }

  /** New work or a change for a destination: start its lane, or cut its wait short. */
  wake(destinationId: string): void {
    if (this.closed) return;
    const running = this.lanes.get(destinationId);
    if (running) running.lane.wake();
    else this.startLane(destinationId);
  }

  /** The circuit breaker of a destination in this process (closed when it has no lane here). */
  breaker(destinationId: string): BreakerState {
    const breaker = this.breakers.get(destinationId);
    if (breaker) return breaker.state(this.ctx.now().getTime());
    return { state: 'closed', consecutiveFailures: 0, openUntil: undefined };
  }

  /** Lets attempts under way finish (at most `graceMs`), then cancels what remains (it is retried on the next start). */
  async close(graceMs = this.closeGraceMs): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.polling;
    const all = [...this.lanes.values()];
    for (const { lane } of all) lane.stop();
    const finished = Promise.all(all.map((l) => l.done));
    const timedOut = await Promise.race([
      finished.then(() => false),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(true), graceMs).unref()),
    ]);
    if (timedOut) {
      for (const { lane } of all) lane.stop(true);
      await finished;
    }
  }

  private poll(): Promise<void> {
    if (this.closed || this.polling) return this.polling ?? Promise.resolve();
    this.polling = this.store.deliveries
      .destinationsWithWork()
      .then((ids) => {
        for (const id of ids) if (!this.lanes.has(id)) this.startLane(id);
      })
      .catch((err) => this.ctx.log.error('delivery: could not read the outbox', err))
      .finally(() => {
        this.polling = undefined;
      });
    return this.polling;
  }

  private startLane(destinationId: string): void {
    if (this.closed) return;
    let breaker = this.breakers.get(destinationId);
    if (!breaker) {
      breaker = new CircuitBreaker(5, 30_000);
      this.breakers.set(destinationId, breaker);
    }
    const lane = new DeliveryLane(destinationId, breaker, this.ctx);
    const done = lane
      .run()
      .catch((err) => this.ctx.log.error(`delivery to ${destinationId} stopped on an error`, err))
      .finally(() => {
        if (this.lanes.get(destinationId)?.lane === lane) this.lanes.delete(destinationId);
      });
    this.lanes.set(destinationId, { lane, done });
  }
}
