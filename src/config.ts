import { z } from 'zod';
import { parseOrThrow } from './core/index.js';

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const flag = z
  .union([z.boolean(), z.enum(['true', 'false', '1', '0', 'on', 'off', 'yes', 'no'])])
  .transform((v) => v === true || v === 'true' || v === '1' || v === 'on' || v === 'yes');

/** Everything Sluice can be configured with. Parsed once, at start; nothing else reads the environment. */
export const ConfigSchema = z.object({
  port: int(0, 65535).default(4100),
  host: z.string().min(1).default('127.0.0.1'),
  dataDir: z.string().min(1).default('./.sluice'),
  databaseUrl: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL (unset for the embedded DuckDB store)')
    .optional(),
  adminKey: z.string().min(16, 'must be at least 16 characters').optional(),
  secretKey: z.string().min(16, 'must be at least 16 characters').optional(),
  /** Load the demo workspace when `serve` starts on an empty store. */
  demo: flag.default(true),
  limits: z.object({
    maxEventBytes: int(1024, 10 << 20).default(32 * 1024),
    maxRequestBytes: int(1024, 100 << 20).default(500 * 1024),
    maxBatchEvents: int(1, 100_000).default(2500),
  }),
  ingest: z.object({
    /** How long the group commit gathers events before writing them. */
    commitDelayMs: int(0, 1000).default(1),
    /** Events waiting to be written beyond which new requests get 429. */
    maxPendingEvents: int(100, 10_000_000).default(50_000),
    dedupeWindowHours: int(24, 24 * 30).default(24),
  }),
  segments: z.object({
    /** How often batch-only segments (rankings) are evaluated; 0: only on demand. */
    batchIntervalMinutes: int(0, 7 * 24 * 60).default(15),
  }),
  delivery: z.object({
    /**
     * How long a delivery being sent stays one process's (renewed while it sends): after a crash,
     * another process on a shared PostgreSQL store takes it over once this runs out.
     */
    leaseSeconds: int(1, 3600).default(60),
  }),
});
export type Config = z.output<typeof ConfigSchema>;

const ENV: Record<string, string> = {
  SLUICE_PORT: 'port',
  SLUICE_HOST: 'host',
  SLUICE_DATA_DIR: 'dataDir',
  SLUICE_DATABASE_URL: 'databaseUrl',
  SLUICE_ADMIN_KEY: 'adminKey',
  SLUICE_SECRET_KEY: 'secretKey',
  SLUICE_DEMO: 'demo',
  SLUICE_MAX_EVENT_BYTES: 'limits.maxEventBytes',
  SLUICE_MAX_REQUEST_BYTES: 'limits.maxRequestBytes',
  SLUICE_MAX_BATCH_EVENTS: 'limits.maxBatchEvents',
  SLUICE_COMMIT_DELAY_MS: 'ingest.commitDelayMs',
  SLUICE_MAX_PENDING_EVENTS: 'ingest.maxPendingEvents',
  SLUICE_DEDUPE_WINDOW_HOURS: 'ingest.dedupeWindowHours',
  SLUICE_SEGMENT_BATCH_MINUTES: 'segments.batchIntervalMinutes',
  SLUICE_DELIVERY_LEASE_SECONDS: 'delivery.leaseSeconds',
};

/** The environment variables Sluice reads, with the config field each sets (for `--help` and the README). */
export const CONFIG_ENV_VARS = Object.keys(ENV);

/**
 * Builds the config from environment variables, then `overrides` (CLI flags, tests) on top.
 * Empty variables count as unset. Throws a UserError naming every bad setting.
 */
export function loadConfig(env: NodeJS.ProcessEnv, overrides: Record<string, unknown> = {}): Config {
  const raw: Record<string, unknown> = { limits: {}, ingest: {}, segments: {}, delivery: {} };
  for (const [name, path] of Object.entries(ENV)) {
    const value = env[name];
    if (value !== undefined && value !== '') setPath(raw, path, value);
  }
  for (const [path, value] of Object.entries(overrides)) if (value !== undefined) setPath(raw, path, value);
  return parseOrThrow(ConfigSchema, raw, 'configuration');
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let obj = target;
  for (const p of parts.slice(0, -1)) {
    obj[p] ??= {};
    obj = obj[p] as Record<string, unknown>;
  }
  obj[parts[parts.length - 1]!] = value;
}
