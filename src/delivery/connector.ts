import type { z } from 'zod';

/** One row sent to a destination: its fields, named as the destination knows them. */
export type DeliveryRecord = Record<string, string | number | boolean | null>;

/** A field a records connector knows. `identifier` fields name the person: a row needs at least one. */
export interface ConnectorField {
  name: string;
  description: string;
  identifier?: boolean;
}

/** What shared code may ask of a connector (it never asks which connector it is). */
export interface ConnectorCapabilities {
  /** `file`: a batch becomes one file (split into parts past a row limit); `records`: API calls. */
  kind: 'file' | 'records';
  /** The fields the destination accepts; `'any'` takes whatever the activation maps. */
  fields: readonly ConnectorField[] | 'any';
  /** The fields an activation sends unless it says otherwise. */
  defaultFields: readonly string[];
  /** Whether a `remove` batch takes people out of the destination's audience. */
  supportsRemovals: boolean;
  /** Rows in one delivery; the outbox splits larger sends into batches of at most this many. */
  maxBatchSize: number;
  /** Deliveries started per second against one destination at most (`undefined`: no limit). */
  rateLimitPerSecond?: number;
}

/** One delivery as a connector sees it: a batch of rows that all get the same operation. */
export interface DeliveryBatch {
  /**
   * The idempotency key, derived from what the batch is about (`<run>:<destination>:<batch>`), the
   * same across retries and restarts: connectors hand it to the destination (webhook-id, upload
   * session, file name) so that a second attempt never counts twice.
   */
  key: string;
  operation: 'add' | 'remove';
  /** The activation and run this batch belongs to, for file names and upload sessions. */
  activation: { id: string; name: string };
  runId: string;
  /** The group's name (campaign treatment group, sub-audience), when there is one. */
  group: string | undefined;
  /** When the run started: the date in file names. */
  runAt: Date;
  /** The batch's place in its run: `index` from 0, `count` batches in all for this operation. */
  index: number;
  count: number;
  /** Field names in order (a file's header). */
  fields: readonly string[];
  rowCount: number;
  /** The rows, in order, in chunks; may be read more than once. */
  rows(): AsyncIterable<DeliveryRecord[]>;
  /**
   * The same rows as text, in chunks of "value lines": one JSON array of values per line in
   * `fields` order (see `value-lines.ts`), for connectors that hand rows to a native reader.
   */
  lines(): AsyncIterable<string>;
}

/** What the destination made of a delivery. */
export interface DeliveryResult {
  accepted: number;
  rejected: number;
  /** The destination's reasons for rejected rows, as it gave them (`row` is the index in the batch). */
  rejections: { row?: number; reason: string; count?: number }[];
  /** What was written where (file names and sizes, job ids, ...), shown with the receipt. */
  detail?: Record<string, unknown>;
}

export interface ConnectorContext<C> {
  /** The destination's config, secrets decrypted. */
  config: C;
  signal: AbortSignal;
  /** A directory the connector may write scratch files into (removed by the caller). */
  tempDir: string;
}

/**
 * A destination connector: data plus functions. Shared code reads `capabilities` and calls
 * `test` and `deliver`; nothing else depends on which connector it is.
 */
export interface Connector<C = unknown> {
  /** Stable id stored with each destination, e.g. `s3`, `webhook`. */
  readonly id: string;
  readonly label: string;
  /** Validates a destination's config; fields made with `secret()` are encrypted at rest and never returned. */
  readonly configSchema: z.ZodType<C>;
  capabilities(config: C): ConnectorCapabilities;
  /** Checks credentials and reachability without changing anything the destination shows. */
  test(ctx: ConnectorContext<C>): Promise<void>;
  /** Sends one batch; throws `DeliveryFailure` (or any error: retried) when it did not go through. */
  deliver(ctx: ConnectorContext<C>, batch: DeliveryBatch): Promise<DeliveryResult>;
}

/** How a failed attempt is treated: tried again later, refused for good (dead letter), or the destination is gone (disabled). */
export type FailureDisposition = 'retry' | 'refused' | 'gone';

/**
 * A delivery attempt that did not go through. `retry` honours `retryAfterMs` when the
 * destination gave one (`Retry-After`); `refused` (a 4xx other than 408/409/429, a bad file
 * setting) goes straight to the dead letters; `gone` (410) disables the destination.
 */
export class DeliveryFailure extends Error {
  override readonly name = 'DeliveryFailure';
  constructor(
    readonly disposition: FailureDisposition,
    message: string,
    readonly details: { status?: number; retryAfterMs?: number } = {},
  ) {
    super(message);
  }
}

/** Declares a connector with its config type inferred from the schema. */
export function defineConnector<S extends z.ZodType>(
  connector: Connector<z.output<S>> & { configSchema: S },
) {
  return connector as unknown as Connector<unknown>;
}
