import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IdentityConfigSchema } from '../src/core/index.js';
import { loadDemoWorkspace } from '../src/demo/index.js';
import {
  IdentifierNormalizer,
  IdentityGraph,
  IdentityService,
  type ObservationRef,
} from '../src/identity/index.js';
import { openStore } from '../src/store/index.js';
import { report } from './support-server.js';

const LINKS = Number(process.env.BENCH_IDENTITY_LINKS ?? 10_000_000);
const EVENTS = Number(process.env.BENCH_IDENTITY_EVENTS ?? 200_000);
const DEMO_CUSTOMERS = Number(process.env.BENCH_IDENTITY_DEMO ?? 50_000);
const PROBABILISTIC = Number(process.env.BENCH_PROBABILISTIC_RECORDS ?? 1_000_000);

/**
 * Identity resolution at scale:
 * - the graph rebuilt from 10,000,000 identifier links (interned identifiers, as a rebuild from the
 *   stored graph has them), with every guardrail checked;
 * - incremental stitching of single events (normalize, intern, link): p50 and p99 per event;
 * - a full rebuild of the demo workspace from the store (read, stitch, write);
 * - probabilistic matching of 1,000,000 records.
 */
export async function run(): Promise<void> {
  const config = IdentityConfigSchema.parse({});
  const rebuild = rebuildFromLinks(config);
  console.log(
    `graph rebuild: ${LINKS.toLocaleString('en-US')} links over ${rebuild.identifiers.toLocaleString('en-US')} identifiers ` +
      `into ${rebuild.profiles.toLocaleString('en-US')} profiles in ${rebuild.seconds.toFixed(2)} s ` +
      `(interning the identifiers first took ${rebuild.internSeconds.toFixed(2)} s)`,
  );
  const incremental = incrementalStitching(config);
  console.log(
    `incremental stitching: ${EVENTS.toLocaleString('en-US')} events, p50 ${incremental.p50.toFixed(4)} ms, ` +
      `p99 ${incremental.p99.toFixed(4)} ms, max ${incremental.max.toFixed(2)} ms per event`,
  );
  const demo = await demoRebuild();
  console.log(
    `demo rebuild from the store: ${demo.observations.toLocaleString('en-US')} events and records into ` +
      `${demo.profiles.toLocaleString('en-US')} profiles in ${demo.seconds.toFixed(2)} s`,
  );
  const probabilistic = await probabilisticMatching();
  report(
    'identity',
    {
      rebuild_links: LINKS,
      rebuild_s: round(rebuild.seconds),
      rebuild_links_per_s: Math.round(LINKS / rebuild.seconds),
      intern_identifiers_s: round(rebuild.internSeconds),
      incremental_p50_ms: round(incremental.p50, 4),
      incremental_p99_ms: round(incremental.p99, 4),
      demo_observations: demo.observations,
      demo_rebuild_s: round(demo.seconds),
      ...probabilistic,
    },
    { rebuild_s: 10, incremental_p99_ms: 1, probabilistic_s: 1800 },
  );
}

/** Each person: a user id, two anonymous ids, an email and a phone; some share a phone (refused). */
function rebuildFromLinks(config: ReturnType<typeof IdentityConfigSchema.parse>) {
  const graph = new IdentityGraph(config);
  const ref: ObservationRef = { kind: 'event', seq: 0, sourceId: 'bench', at: new Date() };
  const persons = Math.ceil(LINKS / 4);
  const internStart = performance.now();
  const ids = new Int32Array(persons * 5);
  for (let p = 0; p < persons; p++) {
    ids[p * 5] = graph.intern({ namespace: 'user_id', value: `U${p}` }).id;
    ids[p * 5 + 1] = graph.intern({ namespace: 'anonymous_id', value: `a-${p}-1` }).id;
    ids[p * 5 + 2] = graph.intern({ namespace: 'anonymous_id', value: `a-${p}-2` }).id;
    ids[p * 5 + 3] = graph.intern({ namespace: 'email', value: `person${p}@example.com` }).id;
    // Every hundredth person's phone is their neighbour's: the second user id is refused.
    const phoneOwner = p % 100 === 99 ? p - 1 : p;
    ids[p * 5 + 4] = graph.intern({
      namespace: 'phone',
      value: `+1415${String(phoneOwner).padStart(7, '0')}`,
    }).id;
  }
  const internSeconds = (performance.now() - internStart) / 1000;
  const none: number[] = [];
  const pair = [0, 0];
  const started = performance.now();
  let links = 0;
  for (let p = 0; p < persons && links < LINKS; p++) {
    const base = p * 5;
    for (let k = 1; k <= 4 && links < LINKS; k++) {
      pair[0] = ids[base]!;
      pair[1] = ids[base + k]!;
      graph.link(pair, none, ref);
      links++;
    }
  }
  return {
    seconds: (performance.now() - started) / 1000,
    internSeconds,
    identifiers: graph.size,
    profiles: graph.profileCount(),
  };
}

/** Single events as they arrive: most anonymous, some signing in with an email and a phone. */
function incrementalStitching(config: ReturnType<typeof IdentityConfigSchema.parse>) {
  const graph = new IdentityGraph(config);
  const normalizer = new IdentifierNormalizer(config);
  const raw: [string, string][] = [];
  const times = new Float64Array(EVENTS);
  for (let i = 0; i < EVENTS; i++) {
    const person = i % 20_000;
    const ref: ObservationRef = { kind: 'event', seq: i, sourceId: 'bench', at: new Date() };
    raw.length = 0;
    raw.push(['anonymous_id', `anon-${person}-${Math.floor(i / 100_000)}`]);
    if (i % 10 === 0) {
      raw.push(['user_id', `user-${person}`], ['email', ` Person${person}@Example.com `]);
      raw.push(['phone', `(415) 555-${String(person % 10_000).padStart(4, '0')}`]);
    }
    const started = performance.now();
    const identifiers = [];
    for (const [namespace, value] of raw) {
      const n = normalizer.normalize(namespace, value);
      if (n.ok) identifiers.push({ namespace, value: n.value });
    }
    graph.stitch(identifiers, ref);
    times[i] = performance.now() - started;
  }
  times.sort();
  return {
    p50: times[Math.floor(EVENTS * 0.5)]!,
    p99: times[Math.floor(EVENTS * 0.99)]!,
    max: times[EVENTS - 1]!,
  };
}

async function demoRebuild() {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-bench-identity-'));
  try {
    const store = await openStore({ dataDir: dir });
    await loadDemoWorkspace(store, { customers: DEMO_CUSTOMERS });
    const identity = await IdentityService.open(store);
    const summary = await identity.rebuild();
    await identity.close();
    await store.close();
    return summary;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function probabilisticMatching(): Promise<Record<string, number>> {
  const { measureProbabilistic } = await import('./support-probabilistic.js');
  const m = await measureProbabilistic(PROBABILISTIC);
  console.log(
    `probabilistic matching: ${m.records.toLocaleString('en-US')} records, ${m.candidate_pairs.toLocaleString('en-US')} candidate pairs, ` +
      `${m.matches.toLocaleString('en-US')} matches in ${m.seconds.toFixed(1)} s`,
  );
  return {
    probabilistic_records: m.records,
    probabilistic_s: round(m.seconds),
    probabilistic_candidate_pairs: m.candidate_pairs,
  };
}

function round(n: number, digits = 2): number {
  return Number(n.toFixed(digits));
}
