import { parse } from 'csv-parse/sync';
import { type Connector, type DeliveryBatch, type DeliveryRecord, toValueLines } from '../delivery/index.js';

/**
 * One connector as the shared conformance suite (`src/delivery/connector-conformance.test.ts`)
 * drives it: against a real server (S3, SFTP, PostgreSQL, a webhook receiver) or, for vendor
 * APIs out of reach, a local server that checks the documented request.
 */
export interface ConformanceTarget {
  connector: Connector;
  /** Secret fields the connector's schema must mark (`secret()`). */
  secrets: readonly string[];
  start(): Promise<ConformanceSetup>;
}

export interface ConformanceSetup {
  /** A valid config pointing at the started server. */
  config: unknown;
  /** A valid config that `test` must refuse (wrong credentials, or nothing listening). */
  badConfig: unknown;
  /** `n` distinct rows in the connector's fields; `i` picks which people, so calls can overlap. */
  rows(n: number, first?: number): DeliveryRecord[];
  /** A row the destination must reject (no identifier), or undefined when every row is acceptable. */
  invalidRow?: DeliveryRecord;
  /** How the destination names the person of a row (an email's hash for Meta, the profile id in a file). */
  keyOf(row: DeliveryRecord): string;
  /** The keys of the people the destination holds now (after every add and remove it accepted). */
  present(): Promise<string[]>;
  /** How many rows the destination counted as received (a resend with the same key must not count). */
  received(): Promise<number>;
  close(): Promise<void>;
}

/** A batch over an in-memory array, as the outbox would hand it to a connector. */
export function batchOf(
  rows: readonly DeliveryRecord[],
  overrides: Partial<Omit<DeliveryBatch, 'rows' | 'rowCount'>> = {},
): DeliveryBatch {
  const fields = overrides.fields ?? [...new Set(rows.flatMap((r) => Object.keys(r)))];
  return {
    key: 'run_test:dst_test:0',
    operation: 'add',
    activation: { id: 'cmp_test', name: 'Spring Sale' },
    runId: 'run_test',
    group: 'Treatment A',
    runAt: new Date('2026-03-14T09:30:00Z'),
    index: 0,
    count: 1,
    ...overrides,
    fields,
    rowCount: rows.length,
    async *rows() {
      for (let i = 0; i < rows.length; i += 1000) yield rows.slice(i, i + 1000);
    },
    async *lines() {
      for (let i = 0; i < rows.length; i += 1000) yield toValueLines(fields, rows.slice(i, i + 1000));
    },
  };
}

/** A batch whose reading fails after its first `good` rows (the store went away mid-delivery). */
export function failingBatch(rows: readonly DeliveryRecord[], good: number, message: string): DeliveryBatch {
  const batch = batchOf(rows);
  batch.rows = async function* () {
    yield rows.slice(0, good);
    throw new Error(message);
  };
  batch.lines = async function* () {
    yield toValueLines(batch.fields, rows.slice(0, good));
    throw new Error(message);
  };
  return batch;
}

/** File names that carry the run and batch: distinct batches are distinct files, a resend replaces its own. */
export const CONFORMANCE_FILE_TEMPLATE = '{{activation_name}}_{{group_name}}_{{run_id}}_{{batch}}';

/**
 * What every file target reads back the same way: people with `profile_id`, `email` and
 * `first_name`, and the CSV data files (`readFiles` returns their texts) as what the destination holds.
 */
export function csvReadBack(
  readFiles: () => Promise<string[]>,
): Pick<ConformanceSetup, 'rows' | 'keyOf' | 'present' | 'received'> {
  const rows = async () =>
    (await readFiles()).flatMap((text) => parse(text, { columns: true }) as Record<string, string>[]);
  return {
    rows: (n, first = 0) =>
      Array.from({ length: n }, (_, i) => ({
        profile_id: `prof_${String(first + i).padStart(6, '0')}`,
        email: `person${first + i}@example.com`,
        first_name: `Person ${first + i}`,
      })),
    keyOf: (row) => String(row.profile_id),
    present: async () => [...new Set((await rows()).map((row) => row.profile_id ?? ''))].sort(),
    received: async () => (await rows()).length,
  };
}

/** Data files only: not `.DONE` markers, nor a transport's hidden temporary or probe files. */
export const isCsvDataFile = (name: string) => name.endsWith('.csv') && !name.startsWith('.');
