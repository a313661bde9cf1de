import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type EvaluationResult, SegmentService } from '../src/segments/index.js';
import { openStore, type Store } from '../src/store/index.js';
import { createAll } from './support-segments-conditions.js';
import { generateEvents, generateProfiles } from './support-segments-data.js';
import { batchSegments } from './support-segments-definitions.js';
import { measureStreaming, type StreamingResult } from './support-segments-stream.js';
import { report } from './support-server.js';

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const PROFILES = env('BENCH_SEGMENT_PROFILES', 1_000_000);
const EVENTS = env('BENCH_SEGMENT_EVENTS', 50_000_000);
/** `batch`, `streaming`, or both (unset). */
const PART = process.env.BENCH_SEGMENT_PART ?? 'all';

/**
 * Segments at scale on the embedded engine:
 * - batch: 100 varied segments over 1,000,000 profiles and 50,000,000 events (generated in SQL),
 *   evaluated in one statement; the first evaluation writes every entry to the ledger, the second
 *   (an hour later) only what changed;
 * - streaming: 500 streaming segments kept current while events arrive at 10,000/s through the
 *   production pipeline (group-commit writer, identity stitching, streaming evaluation, ledger),
 *   with the latency from handing an event to Sluice to its membership change being committed.
 * Sizes: BENCH_SEGMENT_PROFILES, BENCH_SEGMENT_EVENTS, and the BENCH_STREAM_* variables in
 * support-segments-stream.ts (BENCH_STREAM_ENGINE=postgres streams on PostgreSQL instead).
 * Timings are for this machine and whatever else runs on it.
 */
export async function run(): Promise<void> {
  const metrics: Record<string, number> = {};
  if (PART !== 'streaming') Object.assign(metrics, await measureBatch());
  if (PART !== 'batch') Object.assign(metrics, streamingMetrics(await measureStreaming()));
  report('segments', metrics, {
    batch_first_evaluation_s: 60,
    stream_events_per_s: 10_000,
    stream_p99_ms: 100,
  });
}

async function measureBatch(): Promise<Record<string, number>> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-bench-segments-'));
  try {
    const store = await openStore({ dataDir: dir });
    try {
      return await batchOn(store);
    } finally {
      await store.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function batchOn(store: Store): Promise<Record<string, number>> {
  const source = await store.sources.create({ name: 'web', kind: 'events' });
  const now = new Date();
  let started = performance.now();
  await generateEvents(store.db, {
    sourceId: source.id,
    profiles: PROFILES,
    events: EVENTS,
    firstSeq: 1,
    spanDays: 365,
    now,
  });
  const eventsSeconds = seconds(started);
  await generateProfiles(store.db, source.id, PROFILES, now);
  await store.db.query('CHECKPOINT');
  const generateSeconds = seconds(started);
  console.log(
    `generated ${EVENTS.toLocaleString('en-US')} events in ${eventsSeconds.toFixed(1)} s, then ` +
      `${PROFILES.toLocaleString('en-US')} profiles (identifiers, attributes) and a checkpoint: ${generateSeconds.toFixed(1)} s in all`,
  );

  const clock = { now: now.getTime() };
  // Opened without identity: no streaming, and creating a segment does not evaluate it.
  const service = await SegmentService.open(store, undefined, { now: () => clock.now, batchIntervalMs: 0 });
  started = performance.now();
  const segments = await createAll(service, batchSegments(clock.now));
  const modes = service.list().filter((s) => s.mode === 'batch').length;
  console.log(
    `created ${segments.length} segments (${modes} batch-only) in ${seconds(started).toFixed(1)} s; ` +
      `the compiled statement is ${service.membershipSql(segments, now).sql.length.toLocaleString('en-US')} characters`,
  );

  const first = await service.evaluate();
  const nameOf = (id: string) => service.get(id).name;
  summarize('first evaluation', first, nameOf);
  clock.now += 3_600_000;
  const second = await service.evaluate();
  summarize('second evaluation, an hour later', second, nameOf);
  const sizes = first.segments.map((s) => s.members).sort((a, b) => a - b);
  const total = (r: EvaluationResult, key: 'entered' | 'exited' | 'members') =>
    r.segments.reduce((n, s) => n + s[key], 0);
  return {
    batch_profiles: PROFILES,
    batch_events: EVENTS,
    batch_segments: segments.length,
    batch_generate_s: round(generateSeconds),
    batch_first_evaluation_s: round(first.seconds),
    batch_first_entries: total(first, 'entered'),
    batch_median_segment_members: sizes[Math.floor(sizes.length / 2)] ?? 0,
    batch_second_evaluation_s: round(second.seconds),
    batch_second_changes: total(second, 'entered') + total(second, 'exited'),
  };
}

function summarize(what: string, r: EvaluationResult, nameOf: (id: string) => string): void {
  const entered = r.segments.reduce((n, s) => n + s.entered, 0);
  const exited = r.segments.reduce((n, s) => n + s.exited, 0);
  const members = r.segments.reduce((n, s) => n + s.members, 0);
  const empty = r.segments.filter((s) => s.members === 0).map((s) => nameOf(s.segmentId));
  console.log(
    `${what}: ${r.seconds.toFixed(1)} s, ${entered.toLocaleString('en-US')} entries and ` +
      `${exited.toLocaleString('en-US')} exits, ${members.toLocaleString('en-US')} memberships` +
      (empty.length > 0 ? ` (empty: ${empty.join(', ')})` : ''),
  );
}

function streamingMetrics(r: StreamingResult): Record<string, number> {
  return {
    stream_segments: r.segments,
    stream_profiles: r.profiles,
    stream_history_events: r.historyEvents,
    stream_start_s: round(r.startSeconds),
    stream_start_changes: r.startChanges,
    stream_events_per_s: Math.round(r.eventsPerS),
    stream_events: r.events,
    stream_refused_events: r.refused,
    stream_event_changes: r.eventChanges,
    stream_other_changes: r.otherChanges,
    stream_p50_ms: round(r.p50, 1),
    stream_p99_ms: round(r.p99, 1),
    stream_max_ms: round(r.max, 1),
    stream_p99_known_profile_ms: round(r.p99KnownProfile, 1),
    stream_p99_new_visitor_ms: round(r.p99NewVisitor, 1),
    stream_drain_s: round(r.drainSeconds),
    stream_cpu_us_per_event: Math.round(r.cpuMicrosPerEvent),
    stream_loop_delay_p99_ms: round(r.loopDelayP99, 1),
    stream_loop_delay_max_ms: round(r.loopDelayMax, 1),
  };
}

function seconds(since: number): number {
  return (performance.now() - since) / 1000;
}

function round(n: number, digits = 2): number {
  return Number(n.toFixed(digits));
}
