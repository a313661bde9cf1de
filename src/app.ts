import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  AudienceSyncService,
  CampaignService,
  ContactPolicyService,
  OrchestrationService,
} from './activation/index.js';
import type { Config } from './config.js';
import { UserError } from './core/index.js';
import { CONNECTORS } from './delivery/connectors.js';
import { type Delivery, type DeliveryEngineOptions, openDelivery } from './delivery/index.js';
import { DEMO_SEGMENTS, type DemoOptions, loadDemoWorkspace } from './demo/index.js';
import { IdentityService } from './identity/index.js';
import { EventWriter } from './ingest/index.js';
import { Scheduler } from './scheduler/index.js';
import { SegmentService } from './segments/index.js';
import { createHttpServer } from './server/index.js';
import { openStore, type Store } from './store/index.js';

export const VERSION: string = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
).version;

export interface Logger {
  info(message: string): void;
  error(message: string, err?: unknown): void;
}

export const consoleLogger: Logger = {
  info: (message) => console.log(message),
  error: (message, err) => console.error(message, err ?? ''),
};

/** Opens the configured store (DuckDB in the data directory, or PostgreSQL). */
export function openConfiguredStore(config: Config, schema?: string): Promise<Store> {
  return openStore({ dataDir: config.dataDir, databaseUrl: config.databaseUrl, schema });
}

export interface RunningApp {
  config: Config;
  store: Store;
  identity: IdentityService;
  segments: SegmentService;
  delivery: Delivery;
  /** Durable schedules; activations register what runs for their kind of subject. */
  scheduler: Scheduler;
  syncs: AudienceSyncService;
  campaigns: CampaignService;
  contactPolicy: ContactPolicyService;
  orchestrations: OrchestrationService;
  server: Server;
  url: string;
  /** The admin key made on this first start, if one was (it is printed once). */
  createdAdminKey: string | undefined;
  close(): Promise<void>;
}

/** What tests and benchmarks may change beyond the config. */
export interface AppOptions {
  schema?: string;
  demo?: Partial<DemoOptions>;
  delivery?: Partial<Omit<DeliveryEngineOptions, 'log' | 'tempDir'>>;
  /** How often audience syncs read the ledger (default 1 s). */
  syncPollMs?: number;
  /** The clock of the scheduler and activations (tests move it). */
  now?: () => Date;
  /** Leaves the scheduler's timer off: runs start only when `scheduler.tick()` is called (tests). */
  manualScheduler?: boolean;
}

/** The composition root: builds the store, the ingest writer and the HTTP server, and starts listening. */
export async function startApp(config: Config, log: Logger = consoleLogger, options: AppOptions = {}) {
  const store = await openConfiguredStore(config, options.schema);
  try {
    return await startOnStore(store, config, log, options);
  } catch (err) {
    await store.close().catch(() => {});
    throw err;
  }
}

async function startOnStore(
  store: Store,
  config: Config,
  log: Logger,
  options: AppOptions,
): Promise<RunningApp> {
  // A revoked configured key stops the start before anything else happens.
  const createdAdminKey = await ensureAdminKey(store, config);
  // Loaded before listening, so that /health means the demo is there too (about 15 s at full size).
  const loadDemo = config.demo && (await store.sources.list()).length === 0;
  if (loadDemo) {
    log.info('Empty store: loading the demo workspace (SLUICE_DEMO=false to skip)...');
    const demo = await loadDemoWorkspace(store, options.demo);
    log.info(
      `Demo workspace: ${demo.customers} customers, ${demo.records} profile records, ${demo.events} events in ${demo.seconds.toFixed(1)} s`,
    );
  }
  const identity = await IdentityService.open(store, (err) => log.error('identity resolution failed', err));
  // Stitch whatever arrived while Sluice was down (or the demo just loaded) before answering.
  const stitched = await identity.catchUp();
  if (stitched.observations > 0) {
    log.info(
      `Identity: ${stitched.observations} events and records stitched into ${stitched.profiles} profiles in ${stitched.seconds.toFixed(1)} s`,
    );
  }
  const segments = await SegmentService.open(store, identity, {
    batchIntervalMs: config.segments.batchIntervalMinutes * 60_000,
    refreshScores: () => identity.refreshScores(),
    onError: (err) => log.error('segment evaluation failed', err),
  });
  if (loadDemo) {
    const demoSegments = await segments.createAll(DEMO_SEGMENTS);
    log.info(`Demo segments: ${demoSegments.map((s) => `${s.name} (${s.mode})`).join(', ')}`);
  }
  if (createdAdminKey) {
    log.info(`Created the first admin API key (shown once, keep it): ${createdAdminKey}`);
  }
  const writer = new EventWriter(store, {
    commitDelayMs: config.ingest.commitDelayMs,
    maxPendingEvents: config.ingest.maxPendingEvents,
    dedupeWindowMs: config.ingest.dedupeWindowHours * 3_600_000,
    onStored: (firstSeq, events) => {
      segments.offer(firstSeq, events);
      identity.offer(firstSeq, events);
    },
  });
  await writer.start();
  const delivery = await openDelivery(store, {
    dataDir: config.dataDir,
    secretKey: config.secretKey,
    connectors: CONNECTORS,
    log,
    workers: true,
    engine: { leaseMs: config.delivery.leaseSeconds * 1000, ...options.delivery },
  });
  await delivery.engine?.start();
  const now = options.now ?? (() => new Date());
  const scheduler = new Scheduler(store, { log, now });
  const contactPolicy = new ContactPolicyService(store, now);
  const campaigns = new CampaignService(store, segments, delivery, scheduler, { log, now, contactPolicy });
  const orchestrations = new OrchestrationService(store, delivery, scheduler, { log, now });
  if (!options.manualScheduler) scheduler.start();
  const syncs = new AudienceSyncService(store, delivery, {
    log,
    now,
    contactPolicy,
    ...(options.syncPollMs ? { pollMs: options.syncPollMs } : {}),
  });
  syncs.start();
  const server = createHttpServer({
    store,
    writer,
    identity,
    segments,
    delivery,
    syncs,
    campaigns,
    contactPolicy,
    orchestrations,
    config,
    version: VERSION,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  const app: RunningApp = {
    config,
    store,
    identity,
    segments,
    delivery,
    scheduler,
    syncs,
    campaigns,
    contactPolicy,
    orchestrations,
    server,
    url,
    createdAdminKey,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await writer.close();
      await scheduler.close();
      await syncs.close();
      await delivery.engine?.close();
      await identity.close();
      await segments.close();
      await store.close();
    },
  };
  return app;
}

/** Registers `SLUICE_ADMIN_KEY`, or on a store without any key creates one and returns it. */
async function ensureAdminKey(store: Store, config: Config): Promise<string | undefined> {
  if (config.adminKey) {
    if ((await store.apiKeys.ensure('SLUICE_ADMIN_KEY', config.adminKey)) === 'revoked') {
      throw new UserError(
        'admin_key_revoked',
        'SLUICE_ADMIN_KEY is a key that was revoked: set a new one (a revoked key is never accepted again)',
      );
    }
    return undefined;
  }
  if ((await store.apiKeys.count()) > 0) return undefined;
  return (await store.apiKeys.create('initial')).key;
}
