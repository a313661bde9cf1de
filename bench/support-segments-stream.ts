import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { IdentityService } from '../src/identity/index.js';
import { EventWriter } from '../src/ingest/index.js';
import { SegmentService } from '../src/segments/index.js';
import { openStore, type SqlValue, type Store } from '../src/store/index.js';
import { openTestStore } from '../src/test-support/engines.js';
import { createAll } from './support-segments-conditions.js';
import { generateEvents, generateIdentifies, LiveEvents } from './support-segments-data.js';
import { streamingSegments } from './support-segments-definitions.js';

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const SEGMENTS = env('BENCH_STREAM_SEGMENTS', 500);
const PROFILES = env('BENCH_STREAM_PROFILES', 100_000);
const HISTORY = env('BENCH_STREAM_HISTORY_EVENTS', 2_000_000);
const RATE = env('BENCH_STREAM_RATE', 10_000);
const SECONDS = env('BENCH_STREAM_SECONDS', 20);
/** Traffic before the measured part (excluded from the latency figures). */
const WARMUP_SECONDS = env('BENCH_STREAM_WARMUP_S', 5);
/** Events per submission, as an SDK batches them into one request. */
const PER_REQUEST = 10;
/**
 * `duckdb` (the embedded default) or `postgres` (at `SLUICE_TEST_DATABASE_URL` or the local test
 * server, in a schema of its own, dropped after). The traffic is the same; the setup's batch
 * evaluation is slower there (86 s against 9 s on DuckDB at the default sizes).
 */
const ENGINE = process.env.BENCH_STREAM_ENGINE ?? 'duckdb';

export interface StreamingResult {
  segments: number;
  profiles: number;
  historyEvents: number;
  /** Opening the streaming evaluator: loading every profile's state from the store. */
  startSeconds: number;
  /** Memberships the stream changed on opening: where it disagreed with batch evaluation. */
  startChanges: number;
  /** Events stored per second over the measured part. */
  eventsPerS: number;
  /** Events offered (at `BENCH_STREAM_RATE` per second). */
  events: number;
  /** Events the writer refused because too many were waiting (HTTP 429 in production). */
  refused: number;
  /** Membership changes an event caused, each with its latency. */
  eventChanges: number;
  /** Changes for another reason (a new profile, a window closing). */
  otherChanges: number;
  p50: number;
  p99: number;
  max: number;
  /** The p99 of changes caused by events of profiles already stitched (evaluated on arrival). */
  p99KnownProfile: number;
  /**
   * The p99 of changes caused by a new visitor's events: evaluated on arrival for the profile
   * identity's pass is foreseen to found, or after the pass where that cannot be foreseen.
   */
  p99NewVisitor: number;
  /** How long after the last event was handed over everything was in the ledger. */
  drainSeconds: number;
  /**
   * CPU time of this process per event offered while events were driven (user and system, every
   * thread: DuckDB's work is in it, a PostgreSQL server's is not).
   */
  cpuMicrosPerEvent: number;
  /** The event loop's delay while events were driven (how long it was held up at a time), ms. */
  loopDelayP99: number;
  loopDelayMax: number;
}

/**
 * Streaming segments on the production pipeline, in one process as `sluice serve` runs them: live
 * events go to the group-commit writer; once stored they are offered to identity resolution and
 * to segments; the streaming evaluator applies those of known profiles at once (the others once
 * identity has stitched them) and the changes are written to the ledger. Latency runs from an
 * event's scheduled hand-over time (so a driver held up by the pipeline does not hide the wait) to
 * the notification that its change is committed.
 */
export async function measureStreaming(): Promise<StreamingResult> {
  if (ENGINE === 'postgres') {
    const t = await openTestStore('postgres');
    try {
      return await streamOn(t.store);
    } finally {
      await t.cleanup();
    }
  }
  const dir = await mkdtemp(join(tmpdir(), 'sluice-bench-stream-'));
  try {
    const store = await openStore({ dataDir: dir });
    try {
      return await streamOn(store);
    } finally {
      await store.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function streamOn(store: Store): Promise<StreamingResult> {
  const onError = (err: unknown) => console.error('streaming bench:', err);
  const source = await store.sources.create({ name: 'web', kind: 'events' });
  let started = performance.now();
  const now = new Date();
  await generateHistory(store, source.id, now);
  const identity = await IdentityService.open(store, onError);
  const stitched = await identity.catchUp();
  console.log(
    `stream history: ${HISTORY.toLocaleString('en-US')} events and ${PROFILES.toLocaleString('en-US')} identify calls ` +
      `stitched into ${stitched.profiles.toLocaleString('en-US')} profiles; ${seconds(started).toFixed(1)} s`,
  );

  // Definitions first, and their members by one batch evaluation, so that opening the stream loads
  // the state once instead of once per created segment.
  started = performance.now();
  const setup = await SegmentService.open(store);
  const ids = await createAll(setup, streamingSegments(SEGMENTS));
  const batchOnly = setup.list().filter((s) => s.mode === 'batch').length;
  if (batchOnly > 0) throw new Error(`${batchOnly} of the streaming bench segments are batch-only`);
  const evaluation = await setup.evaluate();
  await setup.close();
  const members = evaluation.segments.reduce((n, s) => n + s.members, 0);
  console.log(
    `created ${ids.length} streaming segments and evaluated them in batch (${evaluation.seconds.toFixed(1)} s, ` +
      `${members.toLocaleString('en-US')} memberships); ${seconds(started).toFixed(1)} s`,
  );

  const counts = new Map<string, number>();
  const clock = new StageClock();
  started = performance.now();
  const segments = await SegmentService.open(store, identity, { batchIntervalMs: 0, onError });
  await segments.settle();
  const startSeconds = seconds(started);
  segments.subscribe((changes) => {
    const at = performance.now();
    for (const c of changes) {
      const kind = String(c.reason.kind);
      counts.set(kind, (counts.get(kind) ?? 0) + 1);
      if (kind === 'event') clock.committed(String(c.reason.messageId), at);
    }
  });
  // What the stream recorded on opening is where it disagrees with the batch evaluation just made.
  const [disagreements] = await store.db.query<{ n: number }>(
    "SELECT count(*) AS n FROM segment_changes WHERE mode = 'streaming'",
  );
  console.log(
    `streaming evaluator opened (state of every profile loaded) in ${startSeconds.toFixed(1)} s; ` +
      `${disagreements?.n ?? 0} memberships differed from the batch evaluation`,
  );

  const writer = new EventWriter(store, {
    commitDelayMs: 1,
    maxPendingEvents: 50_000,
    dedupeWindowMs: 24 * 3_600_000,
    onStored: (firstSeq, events) => {
      clock.stored(events);
      segments.offer(firstSeq, events);
      identity.offer(firstSeq, events);
    },
  });
  await writer.start();
  const live = new LiveEvents(source.id, PROFILES);
  const total = Math.round(RATE * (WARMUP_SECONDS + SECONDS));
  const submissions: Promise<unknown>[] = [];
  const warmupEvents = Math.round(RATE * WARMUP_SECONDS);
  // Refused by the writer (too many events waiting), in all and after the warm-up.
  let refused = 0;
  let refusedMeasured = 0;
  // How long the event loop was held up at a time: nothing else runs meanwhile, in any stage.
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const driveStart = performance.now();
  const cpuStart = process.cpuUsage();
  const measureFrom = driveStart + WARMUP_SECONDS * 1000;
  clock.measureFrom = measureFrom;
  let sent = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      // Event i is due at driveStart + i / RATE: those numbered up to the time elapsed are due.
      const due = Math.min(total, Math.floor(((performance.now() - driveStart) * RATE) / 1000) + 1);
      const at = new Date();
      while (sent < due) {
        const request = [];
        const measured = sent >= warmupEvents;
        for (const end = Math.min(due, sent + PER_REQUEST); sent < end; sent++) {
          const e = live.next(at);
          clock.scheduled(e.messageId, driveStart + (sent * 1000) / RATE, LiveEvents.isNewVisitor(e));
          request.push(e);
        }
        submissions.push(
          writer.submit(request).catch(() => {
            refused += request.length;
            if (measured) refusedMeasured += request.length;
          }),
        );
      }
      if (sent >= total) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
  await Promise.all(submissions);
  const driveEnd = performance.now();
  loop.disable();
  const cpu = process.cpuUsage(cpuStart);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const loopDelayP99 = loop.percentile(99) / 1e6;
  const loopDelayMax = loop.max / 1e6;
  await writer.close();
  await identity.settle();
  await segments.settle();
  const drainSeconds = seconds(driveEnd);
  const cpuMicrosPerEvent = (cpuSeconds * 1e6) / total;
  await segments.close();
  await identity.close();

  const latency = clock.quantiles('total');
  const known = clock.quantiles('known');
  const newVisitor = clock.quantiles('newVisitor');
  // Events stored per second after the warm-up, until the last of them was acknowledged.
  const eventsPerS = ((total - warmupEvents - refusedMeasured) * 1000) / (driveEnd - measureFrom);
  const eventChanges = counts.get('event') ?? 0;
  const otherChanges = [...counts.values()].reduce((n, c) => n + c, 0) - eventChanges;
  console.log(
    `streaming: ${total.toLocaleString('en-US')} events offered at ${RATE.toLocaleString('en-US')}/s, ${refused.toLocaleString('en-US')} refused as overload; ` +
      `${Math.round(eventsPerS).toLocaleString('en-US')} events/s stored over ${SECONDS} s after ${WARMUP_SECONDS} s of warm-up; ${eventChanges.toLocaleString('en-US')} changes caused by events ` +
      `(${clock.count().toLocaleString('en-US')} measured), ${otherChanges.toLocaleString('en-US')} others ` +
      `(${[...counts].map(([k, n]) => `${k} ${n}`).join(', ')}); drained ${drainSeconds.toFixed(2)} s after the last event; ` +
      `this process used ${cpuSeconds.toFixed(1)} CPU-s over the ${((driveEnd - driveStart) / 1000).toFixed(1)} s of traffic ` +
      `(${Math.round(cpuMicrosPerEvent)} µs per event, ${store.db.dialect.name}); ` +
      `event loop delay p99 ${loopDelayP99.toFixed(1)} ms, max ${loopDelayMax.toFixed(1)} ms`,
  );
  for (const stage of STAGES) {
    const q = clock.quantiles(stage);
    const changes =
      stage === 'known' || stage === 'newVisitor'
        ? ` (${clock.count(stage).toLocaleString('en-US')} changes)`
        : '';
    console.log(
      `  ${STAGE_NAMES[stage].padEnd(44)} p50 ${ms(q.p50)}  p90 ${ms(q.p90)}  p99 ${ms(q.p99)}  max ${ms(q.max)}${changes}`,
    );
  }
  return {
    segments: ids.length,
    profiles: stitched.profiles,
    historyEvents: HISTORY,
    startSeconds,
    startChanges: disagreements?.n ?? 0,
    eventsPerS,
    events: total,
    refused,
    eventChanges,
    otherChanges,
    p50: latency.p50,
    p99: latency.p99,
    max: latency.max,
    p99KnownProfile: known.p99,
    p99NewVisitor: newVisitor.p99,
    drainSeconds,
    cpuMicrosPerEvent,
    loopDelayP99,
    loopDelayMax,
  };
}

/**
 * The stored history: generated in SQL on DuckDB; for PostgreSQL, generated in a throwaway DuckDB
 * store and copied over (the generator is DuckDB SQL).
 */
async function generateHistory(store: Store, sourceId: string, now: Date): Promise<void> {
  const generate = async (target: Store) => {
    await generateEvents(target.db, {
      sourceId,
      profiles: PROFILES,
      events: HISTORY,
      firstSeq: 1,
      spanDays: 90,
      now,
    });
    await generateIdentifies(target.db, sourceId, PROFILES, HISTORY + 1, now);
  };
  if (store.db.dialect.name === 'duckdb') {
    await generate(store);
    await store.db.query('CHECKPOINT');
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), 'sluice-bench-history-'));
  try {
    const generated = await openStore({ dataDir: dir });
    try {
      await generate(generated);
      const total = HISTORY + PROFILES;
      for (let after = 0; after < total; after += 100_000) {
        const rows = await generated.db.query(
          'SELECT * FROM events WHERE seq > $1 AND seq <= $2 ORDER BY seq',
          [after, after + 100_000],
        );
        const columns = Object.keys(rows[0] ?? {});
        await store.db.bulkInsert(
          'events',
          columns,
          rows.map((r) => columns.map((c) => r[c] as SqlValue)),
        );
      }
    } finally {
      await generated.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  await store.db.query("UPDATE counters SET value = $1 WHERE name = 'events'", [HISTORY + PROFILES]);
  await store.db.query('ANALYZE');
}

const STAGES = ['total', 'write', 'evaluate', 'known', 'newVisitor'] as const;
type Stage = (typeof STAGES)[number];
const STAGE_NAMES: Record<Stage, string> = {
  total: 'event handed over -> change committed',
  write: '  handed over -> stored (group commit)',
  // At once for an event of a known profile or a new visitor; after identity's pass for one that
  // links a known identifier to a new one (a visitor signing up: the pass decides the profile).
  evaluate: '  stored -> evaluated and in the ledger',
  // The same total, apart for events of profiles already stitched and of visitors never seen
  // before, whose new profile identity's pass then founds.
  known: 'of a known profile: handed over -> committed',
  newVisitor: 'of a new visitor: handed over -> committed',
};

/**
 * When each event reached each stage of the pipeline, and for each change an event caused, how
 * long every stage took (changes of events scheduled before `measureFrom` are left out).
 */
class StageClock {
  measureFrom = Number.POSITIVE_INFINITY;
  /**
   * Per event offered, when it was due and stored: one lookup per change (a change's bookkeeping
   * runs on the event loop the pipeline measured shares, 5 changes per event at the default sizes).
   */
  private readonly events = new Map<string, { sent: number; stored: number; newVisitor: boolean }>();
  private readonly times: Record<Stage, number[]> = {
    total: [],
    write: [],
    evaluate: [],
    known: [],
    newVisitor: [],
  };

  scheduled(messageId: string, at: number, newVisitor: boolean): void {
    this.events.set(messageId, { sent: at, stored: Number.NaN, newVisitor });
  }

  stored(events: readonly { messageId: string }[]): void {
    const at = performance.now();
    for (const e of events) {
      const times = this.events.get(e.messageId);
      if (times) times.stored = at;
    }
  }

  committed(messageId: string, at: number): void {
    const e = this.events.get(messageId);
    if (e === undefined || Number.isNaN(e.stored) || e.sent < this.measureFrom) return;
    this.times.total.push(at - e.sent);
    this.times.write.push(e.stored - e.sent);
    this.times.evaluate.push(at - e.stored);
    this.times[e.newVisitor ? 'newVisitor' : 'known'].push(at - e.sent);
  }

  count(stage: Stage = 'total'): number {
    return this.times[stage].length;
  }

  quantiles(stage: Stage): { p50: number; p90: number; p99: number; max: number } {
    const sorted = [...this.times[stage]].sort((a, b) => a - b);
    const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
    return { p50: q(0.5), p90: q(0.9), p99: q(0.99), max: sorted.at(-1) ?? 0 };
  }
}

function ms(n: number): string {
  return `${n.toFixed(1)} ms`.padStart(10);
}

function seconds(since: number): number {
  return (performance.now() - since) / 1000;
}
