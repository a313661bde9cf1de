import type { Database } from './database.js';

export interface SourceStats {
  sourceId: string;
  events: { total: number; byType: Record<string, number>; lastReceivedAt: Date | null };
  profileRecords: { total: number; lastReceivedAt: Date | null };
  rejects: { total: number; lastReceivedAt: Date | null };
  imports: { total: number; completed: number; failed: number };
}

/** Counts per source for `GET /api/sources/:id/stats`. */
export async function sourceStats(db: Database, sourceId: string): Promise<SourceStats> {
  const [byType, records, rejects, imports] = await Promise.all([
    db.query<{ type: string; n: number; last: Date | null }>(
      'SELECT type, count(*) AS n, max(received_at) AS last FROM events WHERE source_id = $1 GROUP BY type',
      [sourceId],
    ),
    db.query<{ n: number; last: Date | null }>(
      'SELECT count(*) AS n, max(received_at) AS last FROM profile_records WHERE source_id = $1',
      [sourceId],
    ),
    db.query<{ n: number; last: Date | null }>(
      'SELECT count(*) AS n, max(received_at) AS last FROM rejects WHERE source_id = $1',
      [sourceId],
    ),
    db.query<{ n: number; completed: number; failed: number }>(
      `SELECT count(*) AS n,
              count(*) FILTER (WHERE status = 'completed') AS completed,
              count(*) FILTER (WHERE status = 'failed') AS failed
       FROM imports WHERE source_id = $1`,
      [sourceId],
    ),
  ]);
  let lastEvent: Date | null = null;
  for (const r of byType) if (r.last && (!lastEvent || r.last > lastEvent)) lastEvent = r.last;
  return {
    sourceId,
    events: {
      total: byType.reduce((sum, r) => sum + r.n, 0),
      byType: Object.fromEntries(byType.map((r) => [r.type, r.n])),
      lastReceivedAt: lastEvent,
    },
    profileRecords: { total: records[0]?.n ?? 0, lastReceivedAt: records[0]?.last ?? null },
    rejects: { total: rejects[0]?.n ?? 0, lastReceivedAt: rejects[0]?.last ?? null },
    imports: {
      total: imports[0]?.n ?? 0,
      completed: imports[0]?.completed ?? 0,
      failed: imports[0]?.failed ?? 0,
    },
  };
}
