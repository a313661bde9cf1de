import type { StoredEvent } from '../core/index.js';
import { IdentityService } from '../identity/index.js';
import { SegmentService } from '../segments/index.js';
import type { Store } from '../store/index.js';
import { type Engine, openTestStore } from './engines.js';

/** A store with identity resolution and segments wired as the app wires them, on a clock the test moves. */
export interface SegmentHarness {
  store: Store;
  identity: IdentityService;
  segments: SegmentService;
  sourceId: string;
  /** The segments' clock, in epoch ms: set it, then `segments.tick()` runs the timers due. */
  clock: { now: number };
  /** Stores events as the ingest writer does, then waits until they are stitched and evaluated. */
  ingest(events: readonly Partial<StoredEvent>[]): Promise<void>;
  /** Members of a segment as the ledger's member table has them. */
  members(segmentId: string): Promise<string[]>;
  /** Opens the segment service again (as a restart does). */
  reopen(): Promise<void>;
  close(): Promise<void>;
}

let messages = 0;

/** A track event with defaults for everything not given. */
export function trackEvent(e: Partial<StoredEvent>, sourceId = 'src_test'): StoredEvent {
  const at = e.timestamp ?? new Date();
  return {
    messageId: `m-${++messages}-${Math.random().toString(36).slice(2, 8)}`,
    sourceId,
    type: 'track',
    userId: null,
    anonymousId: null,
    event: 'Page Viewed',
    groupId: null,
    previousId: null,
    timestamp: at,
    originalTimestamp: null,
    sentAt: null,
    receivedAt: at,
    properties: {},
    traits: {},
    context: {},
    ...e,
  };
}

export async function openSegmentHarness(engine: Engine, start: number): Promise<SegmentHarness> {
  const t = await openTestStore(engine);
  const store = t.store;
  const sourceId = (await store.sources.create({ name: 'web', kind: 'events' })).id;
  const identity = await IdentityService.open(store);
  const clock = { now: start };
  const options = { now: () => clock.now, batchIntervalMs: 0, refreshScores: () => identity.refreshScores() };
  const h: SegmentHarness = {
    store,
    identity,
    segments: await SegmentService.open(store, identity, options),
    sourceId,
    clock,
    async ingest(events) {
      const stored = events.map((e) => trackEvent({ receivedAt: new Date(clock.now), ...e }, sourceId));
      for (let i = 0; i < stored.length; i += 5000) {
        const chunk = stored.slice(i, i + 5000);
        const first = await store.events.append(chunk);
        h.segments.offer(first, chunk);
        identity.offer(first, chunk);
      }
      await identity.settle();
      await h.segments.settle();
    },
    async members(segmentId) {
      const rows = await store.memberships.members(segmentId, 1_000_000);
      return rows.map((r) => r.profileId).sort();
    },
    async reopen() {
      await h.segments.close();
      h.segments = await SegmentService.open(store, identity, options);
    },
    async close() {
      await h.segments.close();
      await identity.close();
      await t.cleanup();
    },
  };
  return h;
}
