import { RetryableError, type StoredEvent } from '../core/index.js';
import type { Reject, Store } from '../store/index.js';
import { DedupeWindow } from './dedupe-window.js';

export interface EventWriterOptions {
  /** How long to gather submissions before writing them together. */
  commitDelayMs: number;
  /** Beyond this many events waiting, `submit` refuses with a RetryableError (HTTP 429). */
  maxPendingEvents: number;
  dedupeWindowMs: number;
  /** Called after each commit with the events it stored and the `seq` of the first. */
  onStored?: (firstSeq: number, events: readonly StoredEvent[]) => void;
}

export interface SubmitResult {
  /** Events new to Sluice, now durable. */
  stored: number;
  /** Events whose messageId was already received in the dedupe window. */
  duplicates: number;
}

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * Group commit: requests hand their events here and wait; one writer gathers everything that
 * arrived in the last few milliseconds, writes it through the engine's bulk path, and then answers
 * every waiting request. Nothing is acknowledged before it is durable.
 */
export class EventWriter {
  private readonly dedupe: DedupeWindow;
  private events: StoredEvent[] = [];
  private rejects: Reject[] = [];
  private waiters: Waiter[] = [];
  private writing = 0;
  private timer: NodeJS.Timeout | undefined;
  /** The write under way; resolves to whether it stored its events. */
  private flushing: Promise<boolean> | undefined;
  private closed = false;

  constructor(
    private readonly store: Store,
    private readonly options: EventWriterOptions,
  ) {
    this.dedupe = new DedupeWindow(options.dedupeWindowMs);
  }

  /** Loads the messageIds of the dedupe window from the store, so a restart keeps deduping. */
  async start(): Promise<void> {
    const since = new Date(Date.now() - this.options.dedupeWindowMs);
    await this.store.events.recentMessageKeys(since, (keys, times) => {
      for (let i = 0; i < keys.length; i++) this.dedupe.add(keys[i]!, times[i]!.getTime());
    });
  }

  /** Events waiting to be written or being written. */
  get pending(): number {
    return this.events.length + this.writing;
  }

  /** Resolves once the new events and the rejects are durable. Duplicates are counted, not stored. */
  async submit(events: readonly StoredEvent[], rejects: readonly Reject[] = []): Promise<SubmitResult> {
    if (this.closed) throw new RetryableError('shutting_down', 'Sluice is shutting down');
    if (this.pending + events.length > this.options.maxPendingEvents) {
      throw new RetryableError(
        'overloaded',
        'too many events are waiting to be written; retry shortly',
        1000,
      );
    }
    let stored = 0;
    for (const e of events) {
      const key = `${e.sourceId}:${e.messageId}`;
      if (this.dedupe.has(key)) continue;
      this.dedupe.add(key, e.receivedAt.getTime());
      this.events.push(e);
      stored++;
    }
    for (const r of rejects) this.rejects.push(r);
    // A duplicate of an event still in flight is acknowledged only once that event is durable.
    if (stored === 0 && rejects.length === 0 && this.pending === 0)
      return { stored, duplicates: events.length };
    // It may be in the write under way: if that write fails, the duplicate is not stored either.
    const inFlight = stored < events.length ? this.flushing : undefined;
    await new Promise<void>((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.schedule();
    });
    if (inFlight && !(await inFlight)) {
      throw new RetryableError('store_unavailable', 'an earlier copy of these events could not be stored');
    }
    return { stored, duplicates: events.length - stored };
  }

  /** Writes what is pending and stops accepting. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    while (this.flushing || this.waiters.length > 0) await (this.flushing ?? this.flush());
  }

  private schedule(): void {
    if (this.timer || this.flushing) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.options.commitDelayMs);
  }

  private flush(): Promise<boolean> {
    const events = this.events;
    const rejects = this.rejects;
    const waiters = this.waiters;
    this.events = [];
    this.rejects = [];
    this.waiters = [];
    this.writing = events.length;
    this.flushing = this.write(events, rejects, waiters).finally(() => {
      this.flushing = undefined;
      this.writing = 0;
      // What arrived while writing goes in the next commit.
      if (this.waiters.length > 0) this.schedule();
    });
    return this.flushing;
  }

  private async write(events: StoredEvent[], rejects: Reject[], waiters: Waiter[]): Promise<boolean> {
    try {
      // Rejects first: if the events then fail, the clients' retries re-record at most a reject.
      await this.store.rejects.append(rejects);
      const firstSeq = await this.store.events.append(events);
      this.dedupe.expire(Date.now());
      for (const w of waiters) w.resolve();
      if (events.length > 0) this.options.onStored?.(firstSeq, events);
      return true;
    } catch (err) {
      // Not stored: forget the ids so that the clients' retries are accepted.
      for (const e of events) this.dedupe.delete(`${e.sourceId}:${e.messageId}`);
      const error = new RetryableError(
        'store_unavailable',
        `events could not be stored: ${(err as Error).message}`,
      );
      for (const w of waiters) w.reject(error);
      return false;
    }
  }
}
