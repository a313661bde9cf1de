import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type CreateDestination,
  DestinationSettingsSchema,
  newId,
  parseOrThrow,
  type UpdateDestination,
  UserError,
} from '../core/index.js';
import type { Store, StoredDestination } from '../store/index.js';
import { abortable } from './abortable.js';
import { type ConnectorCapabilities, DeliveryFailure } from './connector.js';
import type { ConnectorRegistry } from './connector-registry.js';
import { redact } from './redact.js';
import type { SecretBox } from './secret-box.js';
import { secretFieldsOf } from './secret-fields.js';

/** A destination as the API shows it: never its secrets, only which ones are set. */
export interface DestinationView {
  id: string;
  name: string;
  connector: string;
  config: Record<string, unknown>;
  secretsSet: string[];
  settings: StoredDestination['settings'];
  /** The consent purpose a profile needs to be sent here; undefined: none needed. */
  purpose: string | undefined;
  /** What the destination is used for (data-usage policies forbid labels per action). */
  marketingActions: string[];
  capabilities: ConnectorCapabilities;
  enabled: boolean;
  disabledReason: string | undefined;
  createdAt: Date;
  updatedAt: Date;
}

/** The answer of `POST /api/destinations/:id/test`. */
export interface DestinationTest {
  ok: boolean;
  durationMs: number;
  error?: { code: string; message: string };
}

/**
 * Destinations: validates each connector's config against its schema, keeps secret fields
 * encrypted (`SecretBox`), and hands the delivery engine the full config when it sends.
 */
export class DestinationService {
  constructor(
    private readonly store: Store,
    private readonly connectors: ConnectorRegistry,
    /** Undefined when no `SLUICE_SECRET_KEY` is available: destinations with secrets are refused. */
    private readonly secrets: SecretBox | undefined,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async list(): Promise<DestinationView[]> {
    return (await this.store.destinations.list()).map((d) => this.view(d));
  }

  async get(id: string): Promise<DestinationView> {
    return this.view(await this.store.destinations.get(id));
  }

  /** Creates a destination (`marketingActions` may be left out by callers in code: none). */
  async create(
    input: Omit<CreateDestination, 'marketingActions'> & Partial<Pick<CreateDestination, 'marketingActions'>>,
  ): Promise<DestinationView> {
    const connector = this.connectors.get(input.connector);
    const config = parseOrThrow(connector.configSchema, input.config, 'destination config', [
      'config',
    ]) as Record<string, unknown>;
    const now = this.now();
    const stored: StoredDestination = {
      id: newId('dst'),
      name: input.name,
      connector: connector.id,
      ...this.split(connector.id, config),
      settings: DestinationSettingsSchema.parse(input.settings ?? {}),
      purpose: input.purpose,
      marketingActions: [...new Set(input.marketingActions ?? [])],
      enabled: input.enabled,
      disabledReason: undefined,
      createdAt: now,
      updatedAt: now,
    };
    await this.store.destinations.create(stored);
    return this.view(stored);
  }

  /** Changes a destination; secret fields left out of `config` keep their stored values. */
  async update(id: string, input: UpdateDestination): Promise<DestinationView> {
    const current = await this.store.destinations.get(id);
    const connector = this.connectors.get(current.connector);
    let { config, secrets } = current;
    if (input.config) {
      // Credentials that no longer decrypt (another SLUICE_SECRET_KEY) must be entered again.
      const merged = { ...this.readableSecrets(current), ...input.config };
      const parsed = parseOrThrow(connector.configSchema, merged, 'destination config', ['config']) as Record<
        string,
        unknown
      >;
      ({ config, secrets } = this.split(connector.id, parsed));
    }
    await this.store.destinations.update({
      ...current,
      name: input.name ?? current.name,
      config,
      secrets,
      settings: DestinationSettingsSchema.parse({ ...current.settings, ...(input.settings ?? {}) }),
      // `null` removes the purpose; left out, it stays.
      purpose: input.purpose === undefined ? current.purpose : (input.purpose ?? undefined),
      marketingActions:
        input.marketingActions === undefined
          ? current.marketingActions
          : [...new Set(input.marketingActions)],
      updatedAt: this.now(),
    });
    // Only an explicit `enabled` changes it: a delivery that just found the destination gone must not be undone.
    if (input.enabled !== undefined) {
      await this.store.destinations.setEnabled(id, input.enabled, 'disabled by an operator', this.now());
      // What waited while it was off gets its whole retry window from now.
      if (input.enabled) await this.store.deliveries.restartWindows(id, this.now());
    }
    return this.get(id);
  }

  /**
   * Checks a destination's credentials and reachability with its connector's `test`, within
   * `timeoutMs`; the answer says what failed, never with a secret in it.
   */
  async test(id: string, tempRoot: string, timeoutMs = 30_000): Promise<DestinationTest> {
    const destination = await this.store.destinations.get(id);
    const connector = this.connectors.get(destination.connector);
    const started = performance.now();
    await mkdir(tempRoot, { recursive: true });
    const tempDir = await mkdtemp(join(tempRoot, 'test-'));
    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(new Error(`no answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    let secrets: string[] = [];
    try {
      const resolved = this.resolve(destination);
      secrets = resolved.secrets;
      await abortable(
        connector.test({ config: resolved.config, signal: controller.signal, tempDir }),
        controller.signal,
      );
      return { ok: true, durationMs: Math.round(performance.now() - started) };
    } catch (err) {
      return {
        ok: false,
        durationMs: Math.round(performance.now() - started),
        error: {
          code:
            err instanceof UserError ? err.code : err instanceof DeliveryFailure ? err.disposition : 'failed',
          message: redact(err instanceof Error ? err.message : String(err), secrets),
        },
      };
    } finally {
      clearTimeout(timer);
      await rm(tempDir, { recursive: true, force: true });
    }
  }

  /** Deletes a destination that has nothing left to send (its delivery history stays). */
  async delete(id: string): Promise<void> {
    await this.store.destinations.get(id);
    if (await this.store.deliveries.hasWork(id)) {
      throw new UserError(
        'conflict',
        `destination ${id} still has deliveries to send: disable it, or wait until they are delivered or dead-lettered`,
      );
    }
    await this.store.destinations.delete(id);
  }

  /**
   * The destination's whole config, secrets decrypted, validated again by its connector; and the
   * secret values, to keep them out of whatever a connector's errors say.
   */
  resolve(destination: StoredDestination): { config: unknown; secrets: string[] } {
    const connector = this.connectors.get(destination.connector);
    const secrets = this.secretValues(destination);
    const config = parseOrThrow(
      connector.configSchema,
      { ...destination.config, ...secrets },
      `destination ${destination.name} config`,
    );
    return { config, secrets: Object.values(secrets) };
  }

  /** Every stored secret value of a destination, to keep them out of logs and error messages. */
  secretValues(destination: StoredDestination): Record<string, string> {
    if (!destination.secrets) return {};
    if (!this.secrets) throw missingKey();
    return this.secrets.open(destination.secrets, `destination ${destination.name}`);
  }

  private split(connectorId: string, config: Record<string, unknown>) {
    const secretNames = new Set(secretFieldsOf(this.connectors.get(connectorId).configSchema));
    const plain: Record<string, unknown> = {};
    const secret: Record<string, string> = {};
    for (const [name, value] of Object.entries(config)) {
      if (secretNames.has(name) && typeof value === 'string') secret[name] = value;
      else plain[name] = value;
    }
    if (Object.keys(secret).length === 0) return { config: plain, secrets: undefined };
    if (!this.secrets) throw missingKey();
    return { config: plain, secrets: this.secrets.seal(secret) };
  }

  /** The stored secrets, or none when they cannot be read (so that the destination can still be shown and fixed). */
  private readableSecrets(d: StoredDestination): Record<string, string> {
    try {
      return this.secretValues(d);
    } catch (err) {
      if (err instanceof UserError) return {};
      throw err;
    }
  }

  private view(d: StoredDestination): DestinationView {
    const connector = this.connectors.get(d.connector);
    const secrets = this.readableSecrets(d);
    // Capabilities read non-secret fields (batch sizes, modes); parse fills in their defaults.
    const parsed = connector.configSchema.safeParse({ ...d.config, ...secrets });
    return {
      id: d.id,
      name: d.name,
      connector: d.connector,
      config: d.config,
      secretsSet: Object.keys(secrets),
      settings: d.settings,
      purpose: d.purpose,
      marketingActions: d.marketingActions,
      capabilities: connector.capabilities(parsed.success ? parsed.data : d.config),
      enabled: d.enabled,
      disabledReason: d.disabledReason,
      createdAt: d.createdAt,
      updatedAt: d.updatedAt,
    };
  }
}

function missingKey(): UserError {
  return new UserError(
    'secret_key_missing',
    'this destination has credentials, and SLUICE_SECRET_KEY is not set: set it (the same value in every Sluice process) to store and use them',
  );
}
