import { afterEach, describe, expect, it } from 'vitest';
import type { Source } from '../core/index.js';
import { openStore } from '../store/index.js';
import { ENGINES } from '../test-support/engines.js';
import {
  SPAWN_ADMIN_KEY as ADMIN_KEY,
  freshLocation,
  type SpawnedServer,
  spawnServer,
} from '../test-support/spawn-server.js';

const CLIENTS = 6;
const EVENTS_PER_BATCH = 20;
/** Acknowledged requests to see before the kill. */
const ACKED_BEFORE_KILL = 300;
/** Bounds so that the test ends even when the server is slow or stuck. */
const MAX_REQUESTS_PER_CLIENT = 2000;
const SEND_DEADLINE_MS = 60_000;
const REQUEST_TIMEOUT_MS = 15_000;

type Batch = { type: 'track'; userId: string; event: string; messageId: string; properties: object }[];

/** Posts one batch; `undefined` when the server did not answer (it was killed). */
async function sendBatch(url: string, writeKey: string, batch: Batch): Promise<number | undefined> {
  try {
    const res = await fetch(`${url}/v1/batch`, {
      method: 'POST',
      headers: {
        Authorization: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`,
        'Content-Type': 'application/json',
      },
      body: JSON.stringify({ batch }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return undefined;
  }
}

describe.each(ENGINES)('a server killed mid-stream on %s', (engine) => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn().catch(() => {});
  });

  it('keeps every acknowledged event, exactly once, and dedupes the clients’ retries', async () => {
    const location = await freshLocation(engine);
    cleanups.push(location.cleanup);
    let server: SpawnedServer = await spawnServer(location.env);
    cleanups.push(() => server.kill());

    const created = await fetch(`${server.url}/api/sources`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${ADMIN_KEY}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'crash-app', kind: 'events' }),
    });
    expect(created.status).toBe(201);
    const source = (await created.json()) as Source;

    const acked: string[] = [];
    const unacked: Batch[] = [];
    let ackedRequests = 0;
    let killed: Promise<void> | undefined;
    // Killed from the client that sees the target reached, so the other requests are mid-flight.
    const killNow = () => {
      killed ??= server.kill();
    };
    const deadline = Date.now() + SEND_DEADLINE_MS;

    const client = async (c: number) => {
      for (let n = 0; n < MAX_REQUESTS_PER_CLIENT && Date.now() < deadline; n++) {
        const batch: Batch = Array.from({ length: EVENTS_PER_BATCH }, (_, i) => ({
          type: 'track',
          userId: `user-${c}`,
          event: 'Crash Test',
          messageId: `c${c}-r${n}-e${i}`,
          properties: { client: c, request: n, item: i },
        }));
        const status = await sendBatch(server.url, source.writeKey, batch);
        if (status === 200) {
          acked.push(...batch.map((e) => e.messageId));
          if (++ackedRequests >= ACKED_BEFORE_KILL) killNow();
        } else {
          // Not acknowledged: the client keeps it to retry, as SDKs do.
          unacked.push(batch);
          if (status === undefined) return;
        }
      }
    };
    // Each client ends on the kill (its next request fails), its request cap or the deadline.
    await Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)));
    killNow();
    await killed;
    expect(ackedRequests).toBeGreaterThanOrEqual(ACKED_BEFORE_KILL);

    server = await spawnServer(location.env);
    for (const batch of unacked) {
      expect(await sendBatch(server.url, source.writeKey, batch)).toBe(200);
    }
    const retried = unacked.flatMap((b) => b.map((e) => e.messageId));

    const statsRes = await fetch(`${server.url}/api/sources/${source.id}/stats`, {
      headers: { Authorization: `Bearer ${ADMIN_KEY}` },
    });
    const stats = (await statsRes.json()) as { events: { total: number } };
    await server.stop();

    const store = await openStore(location.store);
    let rows: { message_id: string; n: number }[];
    try {
      rows = await store.db.query<{ message_id: string; n: number }>(
        'SELECT message_id, count(*) AS n FROM events WHERE source_id = $1 GROUP BY message_id',
        [source.id],
      );
    } finally {
      await store.close();
    }
    const stored = new Map(rows.map((r) => [r.message_id, r.n]));
    const missing = acked.filter((id) => stored.get(id) !== 1);
    expect(missing, 'acknowledged events not stored exactly once').toEqual([]);
    const retriedWrong = retried.filter((id) => stored.get(id) !== 1);
    expect(retriedWrong, 'retried events not stored exactly once').toEqual([]);
    expect(new Set([...acked, ...retried]).size).toBe(acked.length + retried.length);
    expect(rows.length).toBe(acked.length + retried.length);
    expect(stats.events.total).toBe(acked.length + retried.length);
  }, 180_000);
});
