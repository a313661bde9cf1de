import autocannon from 'autocannon';
import { BENCH_ADMIN_KEY, report, spawnServer } from './support-server.js';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);

/**
 * Durable ingestion over HTTP on the embedded engine: single-event requests (req/s, p50, p99) and
 * batches of 100 events (events/s). The server runs in its own process; acknowledged events are
 * counted in the store afterwards.
 */
export async function run(): Promise<void> {
  const server = await spawnServer();
  try {
    const admin = { Authorization: `Bearer ${BENCH_ADMIN_KEY}`, 'Content-Type': 'application/json' };
    const res = await fetch(`${server.url}/api/sources`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ name: 'bench', kind: 'events' }),
    });
    const { writeKey, id } = (await res.json()) as { writeKey: string; id: string };
    const auth = `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`;
    const headers = { Authorization: auth, 'Content-Type': 'application/json' };

    // No messageId: the server makes one per event, so every request stores a new event.
    const single = JSON.stringify({
      userId: 'user-123',
      event: 'Product Viewed',
      properties: { sku: 'SKU-1', price: 19.99, category: 'shoes' },
      context: { ip: '127.0.0.1', userAgent: 'bench' },
      timestamp: new Date().toISOString(),
    });
    const warmup = await load(server.url, '/v1/track', single, headers, 10, 2);
    const s = await load(server.url, '/v1/track', single, headers, 64, DURATION_S);
    console.log(
      `single events: ${s.requests.average.toFixed(0)} req/s, p50 ${s.latency.p50} ms, p99 ${s.latency.p99} ms, ` +
        `${s.non2xx} non-2xx, ${s.errors} errors`,
    );

    const batch = JSON.stringify({
      batch: Array.from({ length: 100 }, (_, i) => ({
        type: 'track',
        userId: `user-${i}`,
        event: 'Product Viewed',
        properties: { sku: `SKU-${i}`, price: 19.99 },
        timestamp: new Date().toISOString(),
      })),
    });
    const b = await load(server.url, '/v1/batch', batch, headers, 16, DURATION_S);
    const eventsPerS = b.requests.average * 100;
    console.log(
      `batches of 100: ${eventsPerS.toFixed(0)} events/s, p99 ${b.latency.p99} ms, ${b.non2xx} non-2xx`,
    );

    const stats = (await (
      await fetch(`${server.url}/api/sources/${id}/stats`, { headers: admin })
    ).json()) as {
      events: { total: number };
    };
    const acknowledged = warmup['2xx'] + s['2xx'] + b['2xx'] * 100;
    console.log(`stored ${stats.events.total} events; acknowledged ${acknowledged}`);
    report(
      'ingest',
      {
        single_requests_per_s: Math.round(s.requests.average),
        single_p50_ms: s.latency.p50,
        single_p99_ms: s.latency.p99,
        batch_events_per_s: Math.round(eventsPerS),
        batch_p99_ms: b.latency.p99,
        stored_events: stats.events.total,
        acknowledged_events: acknowledged,
      },
      { single_requests_per_s: 20_000, single_p99_ms: 10, batch_events_per_s: 100_000 },
    );
  } finally {
    await server.stop();
  }
}

async function load(
  url: string,
  path: string,
  body: string,
  headers: Record<string, string>,
  connections: number,
  duration: number,
): Promise<autocannon.Result> {
  return autocannon({
    url: `${url}${path}`,
    method: 'POST',
    body,
    headers,
    connections,
    duration,
    workers: 1,
  });
}
