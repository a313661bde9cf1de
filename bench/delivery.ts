import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONNECTORS } from '../src/delivery/connectors.js';
import { type Delivery, type DeliveryRecord, openDelivery } from '../src/delivery/index.js';
import { openStore, type Store } from '../src/store/index.js';
import { startWebhookReceiver } from '../src/test-support/webhook-receiver.js';
import { startS3Process } from './support-s3-process.js';
import { report } from './support-server.js';

const FILE_ROWS = Number(process.env.BENCH_DELIVERY_FILE_ROWS ?? 10_000_000);
const RECORD_ROWS = Number(process.env.BENCH_DELIVERY_RECORD_ROWS ?? 200_000);
const log = {
  info: (m: string) => console.log(m),
  error: (m: string, e?: unknown) => console.error(m, e ?? ''),
};

/** An audience row of 8 fields, as a campaign would send it. */
function person(i: number): DeliveryRecord {
  return {
    profile_id: `prf_${i.toString(36).padStart(8, '0')}`,
    email: `customer${i}@example.com`,
    first_name: ['Ann', 'Bob', 'Chloé', 'Dev', 'Eve'][i % 5]!,
    last_name: ['Smith', "O'Brien", 'Nguyen', 'García', 'Okafor'][i % 5]!,
    phone: `+1415555${String(i % 10_000).padStart(4, '0')}`,
    city: ['London', 'Paris, FR', 'Austin', 'Berlin', 'Tokyo'][i % 5]!,
    country: ['gb', 'fr', 'us', 'de', 'jp'][i % 5]!,
    lifetime_value: Math.round((i % 5000) * 1.37 * 100) / 100,
  };
}
const FIELDS = Object.keys(person(0));

async function* people(count: number): AsyncIterable<DeliveryRecord[]> {
  for (let first = 0; first < count; first += 10_000) {
    yield Array.from({ length: Math.min(10_000, count - first) }, (_, i) => person(first + i));
  }
}

/** Enqueues `rows` for a destination, then starts the workers and times the delivery itself. */
async function timeDelivery(
  store: Store,
  delivery: Delivery,
  destinationId: string,
  rows: number,
  runId: string,
) {
  const enqueueStarted = performance.now();
  const { deliveryIds } = await delivery.outbox.enqueue({
    destinationId,
    activation: { id: 'cmp_bench', name: 'Bench campaign' },
    runId,
    group: 'Treatment',
    runAt: new Date(),
    operation: 'add',
    fields: FIELDS,
    rows: people(rows),
  });
  const enqueueSeconds = (performance.now() - enqueueStarted) / 1000;
  const started = performance.now();
  delivery.engine!.wake(destinationId);
  for (;;) {
    // One query per look: polling each delivery would compete with the workers being measured.
    const all = await store.deliveries.list({ runId, destinationId, limit: deliveryIds.length });
    const dead = all.find((d) => d.status === 'dead');
    if (dead) throw new Error(`a delivery was dead-lettered: ${dead.lastError}`);
    if (all.length === deliveryIds.length && all.every((d) => d.status === 'delivered')) {
      return { enqueueSeconds, seconds: (performance.now() - started) / 1000, deliveries: all };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Delivery throughput: a 10,000,000-row file to a local folder and to S3 (s3rver), records to a
 * local webhook receiver, and a healthy webhook destination beside one that hangs.
 */
export async function run(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-bench-delivery-'));
  const s3 = await startS3Process('bench');
  const healthy = await startWebhookReceiver();
  const stuck = await startWebhookReceiver();
  const store = await openStore({ dataDir: join(dir, 'store') });
  const delivery = await openDelivery(store, {
    dataDir: join(dir, 'store'),
    secretKey: 'bench_secret_key_0123456789abcdef',
    connectors: CONNECTORS,
    log,
    workers: true,
    engine: { pollMs: 100, closeGraceMs: 100 },
  });
  try {
    await delivery.engine!.start();
    const metrics: Record<string, number> = { file_rows: FILE_ROWS };

    await mkdir(join(dir, 'out'));
    const folder = await delivery.destinations.create({
      name: 'folder',
      connector: 'folder',
      config: { path: join(dir, 'out'), format: 'csv' },
      enabled: true,
    });
    const toFolder = await timeDelivery(store, delivery, folder.id, FILE_ROWS, 'run_folder');
    const files = await readdir(join(dir, 'out'));
    const bytes = (await Promise.all(files.map((f) => stat(join(dir, 'out', f))))).reduce(
      (a, s) => a + s.size,
      0,
    );
    console.log(
      `folder: ${files.join(', ')} (${(bytes / 1e6).toFixed(0)} MB) in ${toFolder.seconds.toFixed(1)} s`,
    );
    metrics.enqueue_seconds = round(toFolder.enqueueSeconds);
    metrics.folder_seconds = round(toFolder.seconds);
    await rm(join(dir, 'out'), { recursive: true, force: true });

    const bucket = await delivery.destinations.create({
      name: 's3',
      connector: 's3',
      config: {
        bucket: 'bench',
        endpoint: s3.endpoint,
        forcePathStyle: true,
        accessKeyId: s3.accessKeyId,
        secretAccessKey: s3.secretAccessKey,
        format: 'csv',
      },
      enabled: true,
    });
    const toS3 = await timeDelivery(store, delivery, bucket.id, FILE_ROWS, 'run_s3');
    console.log(`s3: ${toS3.seconds.toFixed(1)} s (${JSON.stringify(toS3.deliveries[0]?.receipt?.detail)})`);
    metrics.s3_seconds = round(toS3.seconds);

    const hook = await delivery.destinations.create({
      name: 'webhook',
      connector: 'webhook',
      config: { url: healthy.url, secret: healthy.secret, batchSize: 1000 },
      enabled: true,
    });
    const alone = await timeDelivery(store, delivery, hook.id, RECORD_ROWS, 'run_hook_alone');
    metrics.webhook_records_per_s = Math.round(RECORD_ROWS / alone.seconds);

    stuck.respond(() => ({ status: 200, delayMs: 600_000 }));
    const hanging = await delivery.destinations.create({
      name: 'hanging webhook',
      connector: 'webhook',
      config: { url: stuck.url, secret: stuck.secret, batchSize: 1000, timeoutMs: 300_000 },
      enabled: true,
    });
    await delivery.outbox.enqueue({
      destinationId: hanging.id,
      activation: { id: 'cmp_bench', name: 'Bench campaign' },
      runId: 'run_stuck',
      runAt: new Date(),
      operation: 'add',
      fields: FIELDS,
      rows: people(5000),
    });
    // Wait until the hanging destination holds a request open, then measure the healthy one beside it.
    while (
      !(await store.deliveries.list({ destinationId: hanging.id, status: 'sending', limit: 1 })).length
    ) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const beside = await timeDelivery(store, delivery, hook.id, RECORD_ROWS, 'run_hook_beside');
    metrics.webhook_records_per_s_beside_hanging = Math.round(RECORD_ROWS / beside.seconds);
    metrics.isolation_ratio = round(alone.seconds / beside.seconds);

    report('delivery', metrics, { folder_seconds: 30, s3_seconds: 30, isolation_ratio: 0.9 });
  } finally {
    await delivery.engine?.close(100);
    await store.close();
    await Promise.all([s3.close(), healthy.close(), stuck.close()]);
    await rm(dir, { recursive: true, force: true });
  }
}

const round = (n: number) => Number(n.toFixed(2));
