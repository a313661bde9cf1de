import type { Store } from '../store/index.js';
import type { RunCounts } from './campaign-runner.js';

export const ACTIVATION_KINDS = ['campaign', 'sync', 'orchestration'] as const;
export type ActivationKind = (typeof ACTIVATION_KINDS)[number];

/** One activation of any kind, as the activations list shows it. */
export interface ActivationSummary {
  kind: ActivationKind;
  id: string;
  name: string;
  status: string;
  lastRunAt: Date | undefined;
  lastRunStatus: string | undefined;
  /** When the next run is due (syncs run continuously: none). */
  nextRunAt: Date | undefined;
  lastError: string | undefined;
  /** Rows over all runs: `queued` (waiting or being sent), `sent` (accepted), `failed` (dead-lettered), and per-kind counts of the last run. */
  counts: Record<string, number>;
}

/** Campaigns, audience syncs and orchestrations in one list, by name. */
export async function listActivations(store: Store): Promise<ActivationSummary[]> {
  const [totals, schedules, lastRuns] = await Promise.all([
    store.deliveries.activationTotals(),
    store.schedules.list(),
    store.campaigns.lastRuns(),
  ]);
  const nextOf = (kind: string, id: string) => {
    const s = schedules.find((x) => x.kind === kind && x.subjectId === id);
    return s && !s.paused ? s.nextRunAt : undefined;
  };
  const rows = (id: string) => totals.get(id) ?? { queued: 0, sent: 0, failed: 0 };
  const list: ActivationSummary[] = [];
  for (const c of await store.campaigns.list()) {
    const run = lastRuns.get(c.id);
    const counts = run?.counts as RunCounts | undefined;
    list.push({
      kind: 'campaign',
      id: c.id,
      name: c.name,
      status: c.status,
      lastRunAt: run?.startedAt,
      lastRunStatus: run?.status,
      // A failed recurrence still runs at its next tick.
      nextRunAt: c.status === 'scheduled' || c.status === 'failed' ? nextOf('campaign', c.id) : undefined,
      lastError: run?.error,
      counts: {
        ...rows(c.id),
        ...(counts ? { audience: counts.audience, newlyQualified: counts.newlyQualified } : {}),
      },
    });
  }
  for (const sync of await store.audienceSyncs.list()) {
    list.push({
      kind: 'sync',
      id: sync.id,
      name: sync.name,
      status: sync.lastError ? 'failing' : sync.cursor === undefined ? 'starting' : 'syncing',
      lastRunAt: sync.lastSyncedAt,
      lastRunStatus: sync.lastError ? 'failed' : sync.lastSyncedAt ? 'completed' : undefined,
      nextRunAt: undefined,
      lastError: sync.lastError,
      counts: { ...rows(sync.id), members: await store.memberships.count(sync.segmentId) },
    });
  }
  for (const o of await store.orchestrations.list()) {
    const run = (await store.orchestrations.runs(o.id, 1))[0];
    list.push({
      kind: 'orchestration',
      id: o.id,
      name: o.name,
      status: o.enabled ? 'scheduled' : 'disabled',
      lastRunAt: run?.startedAt,
      lastRunStatus: run ? (run.skipped ? 'skipped' : run.status) : undefined,
      nextRunAt: o.enabled ? nextOf('orchestration', o.id) : undefined,
      lastError: run?.error,
      counts: { ...rows(o.id), ...(run?.rowCount !== undefined ? { lastRows: run.rowCount } : {}) },
    });
  }
  return list.sort((a, b) => a.name.localeCompare(b.name) || a.kind.localeCompare(b.kind));
}
