import { join } from 'node:path';
import type { Store } from '../store/index.js';
import type { Connector } from './connector.js';
import { ConnectorRegistry } from './connector-registry.js';
import { DeliveryEngine, type DeliveryEngineOptions } from './delivery-engine.js';
import { DestinationService } from './destination-service.js';
import { Outbox } from './outbox.js';
import { SecretBox } from './secret-box.js';
import { embeddedSecretKey } from './secret-key-file.js';

/** Everything delivery offers the rest of Sluice, wired once. */
export interface Delivery {
  connectors: ConnectorRegistry;
  destinations: DestinationService;
  outbox: Outbox;
  /** The workers of this process (absent in a CLI process that only manages). */
  engine: DeliveryEngine | undefined;
  /** Scratch space for connectors. */
  tempDir: string;
}

export interface DeliveryOptions {
  dataDir: string;
  /** `SLUICE_SECRET_KEY`; unset on the embedded store: a key file in the data directory. */
  secretKey: string | undefined;
  connectors: readonly Connector[];
  log: DeliveryEngineOptions['log'];
  /** Whether this process sends deliveries (a server does; a CLI command does not). */
  workers: boolean;
  engine?: Partial<Omit<DeliveryEngineOptions, 'log' | 'tempDir'>>;
}

/** Builds delivery over a store; the engine is built but not started. */
export async function openDelivery(store: Store, options: DeliveryOptions): Promise<Delivery> {
  const tempDir = join(options.dataDir, 'tmp');
  let secretKey = options.secretKey;
  if (!secretKey && store.engine === 'duckdb') {
    const file = await embeddedSecretKey(options.dataDir);
    if (file.created) {
      options.log.info(
        `Created ${join(options.dataDir, 'secret.key')}: it encrypts destination credentials (keep it with the store)`,
      );
    }
    secretKey = file.key;
  }
  const connectors = new ConnectorRegistry(options.connectors);
  const destinations = new DestinationService(
    store,
    connectors,
    secretKey ? new SecretBox(secretKey) : undefined,
  );
  let engine: DeliveryEngine | undefined;
  if (options.workers) {
    engine = new DeliveryEngine(store, connectors, destinations, {
      ...options.engine,
      tempDir,
      log: options.log,
    });
  }
  const outbox = new Outbox(store, connectors, destinations, (id) => engine?.wake(id));
  return { connectors, destinations, outbox, engine, tempDir };
}
