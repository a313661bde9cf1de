import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importFile } from '../ingest/index.js';
import { ENGINES } from '../test-support/engines.js';
import { CASES, LATER, NOW, ORDER_LINE, TRAITS } from '../test-support/online-retail-cases.js';
import { openSegmentHarness, type SegmentHarness } from '../test-support/segments.js';

/**
 * Segments over the UCI Online Retail data set (541,909 invoice lines, Dec 2010 to Dec 2011),
 * each compared with the members of a hand-written DuckDB query over the raw CSV: an oracle that
 * shares no code with Sluice. Every condition kind is covered by at least one segment.
 */

const DATA = fileURLToPath(
  new URL('../../../shared/data/online-retail/online-retail.csv.gz', import.meta.url),
);
let oracleDb: DuckDBInstance;
let oracle: DuckDBConnection;
let workDir: string;
/** Files derived from the raw CSV into `workDir` (see `deriveFiles`). */
let files: { customers: string; early: string; late: string };
/** The oracle's members per case name, at NOW and at LATER (CustomerIDs). */
const expected = new Map<Date, Map<string, string[]>>();

/**
 * The oracle: the raw lines with a line number (two identical lines are still two events), and
 * one row per customer with the values Sluice gets as profile attributes.
 */
async function openOracle(): Promise<void> {
  oracleDb = await DuckDBInstance.create(':memory:');
  oracle = await oracleDb.connect();
  await oracle.run(`CREATE TABLE raw AS
    SELECT row_number() OVER () AS line, * FROM read_csv('${DATA}', header = true, all_varchar = true)`);
  await oracle.run(`CREATE TABLE lines AS
    SELECT line, InvoiceNo AS invoice, StockCode AS stock_code, Description AS description,
      CAST(Quantity AS BIGINT) AS quantity, CAST(UnitPrice AS DOUBLE) AS unit_price,
      CAST(InvoiceDate AS TIMESTAMP) AS t, CustomerID AS customer,
      CAST(round(CAST(Quantity AS BIGINT) * CAST(UnitPrice AS DOUBLE) * 100) AS BIGINT) AS revenue
    FROM raw WHERE CustomerID IS NOT NULL`);
  // A customer's country is the alphabetically last of their lines' (8 customers have two);
  // first_order_at is their first line with a positive quantity (33 customers have none).
  await oracle.run(`CREATE TABLE customers AS
    SELECT CustomerID AS customer, max(Country) AS country,
      CAST(CAST(CustomerID AS DOUBLE) AS INTEGER) AS customer_number,
      min(CAST(InvoiceDate AS TIMESTAMP)) FILTER (WHERE CAST(Quantity AS BIGINT) > 0) AS first_order_at
    FROM raw WHERE CustomerID IS NOT NULL GROUP BY CustomerID`);
}

/**
 * Files for Sluice to import, derived from the raw CSV into a temporary folder: a customers file
 * (the data set has no profile file, and attribute conditions need one), and the lines in two
 * parts with a RevenuePence column. Revenue in whole pence keeps sums exact, so that rankings and
 * thresholds do not depend on the order floats are added in. The first part (invoices ending in
 * 0) is in before the segments are created; the rest arrives after, out of time order, and goes
 * through streaming evaluation.
 */
async function deriveFiles(): Promise<void> {
  workDir = await mkdtemp(join(tmpdir(), 'sluice-online-retail-'));
  files = {
    customers: join(workDir, 'customers.csv'),
    early: join(workDir, 'lines-early.csv.gz'),
    late: join(workDir, 'lines-late.csv.gz'),
  };
  await oracle.run(`COPY (
      SELECT customer AS CustomerID, country AS Country, customer_number AS CustomerNumber,
        strftime(first_order_at, '%Y-%m-%d %H:%M:%S') AS FirstOrderAt
      FROM customers ORDER BY customer
    ) TO '${files.customers}' (HEADER)`);
  for (const [path, part] of [
    [files.early, "right(InvoiceNo, 1) = '0'"],
    [files.late, "right(InvoiceNo, 1) <> '0'"],
  ] as const) {
    await oracle.run(`COPY (
        SELECT InvoiceNo, StockCode, Description, Quantity, InvoiceDate, UnitPrice, CustomerID, Country,
          CAST(round(CAST(Quantity AS BIGINT) * CAST(UnitPrice AS DOUBLE) * 100) AS BIGINT) AS RevenuePence
        FROM raw WHERE ${part} ORDER BY line
      ) TO '${path}' (HEADER, COMPRESSION gzip)`);
  }
}

/** The oracle's members of every case at `at`. */
async function oracleMembers(at: Date): Promise<Map<string, string[]>> {
  // The oracle's times are naive timestamps in UTC, as the import reads them.
  const now = `TIMESTAMP '${at.toISOString().slice(0, 19).replace('T', ' ')}'`;
  const sql = (name: string): string => CASES.find((c) => c.name === name)!.oracle({ now, sql });
  const members = new Map<string, string[]>();
  for (const c of CASES) {
    const reader = await oracle.runAndReadAll(sql(c.name));
    members.set(
      c.name,
      reader.getRows().map((r) => String(r[0])),
    );
  }
  return members;
}

beforeAll(async () => {
  await openOracle();
  await deriveFiles();
  for (const at of [NOW, LATER]) expected.set(at, await oracleMembers(at));
}, 120_000);

afterAll(async () => {
  oracle?.closeSync();
  oracleDb?.closeSync();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

const LINE_MAPPING = {
  kind: 'events',
  type: 'track',
  event: { value: ORDER_LINE },
  userId: 'CustomerID',
  timestamp: 'InvoiceDate',
  properties: {
    invoice: 'InvoiceNo',
    stockCode: 'StockCode',
    description: 'Description',
    quantity: { column: 'Quantity', type: 'number' },
    unitPrice: { column: 'UnitPrice', type: 'number' },
    revenue: { column: 'RevenuePence', type: 'integer' },
    country: 'Country',
  },
  traits: {},
} as const;

const CUSTOMER_MAPPING = {
  kind: 'profiles',
  identifiers: { user_id: 'CustomerID' },
  attributes: {
    country: 'Country',
    customer_number: { column: 'CustomerNumber', type: 'integer' },
    first_order_at: { column: 'FirstOrderAt', type: 'timestamp' },
  },
} as const;

describe.each(ENGINES)('Online Retail segments against a DuckDB oracle on %s', (engine) => {
  let h: SegmentHarness;
  const ids = new Map<string, string>();
  const imported = { stored: 0, rejected: 0 };

  /** Members by segment id as the batch SQL computes them at `at`. */
  const batchMembers = async (at: Date): Promise<Map<string, string[]>> => {
    const { sql, params } = h.segments.membershipSql([...ids.values()], at);
    const members = new Map<string, string[]>();
    for (const r of await h.store.db.query<{ segment_id: string; profile_id: string }>(sql, params)) {
      const list = members.get(r.segment_id);
      if (list) list.push(r.profile_id);
      else members.set(r.segment_id, [r.profile_id]);
    }
    return members;
  };

  /** The oracle's members of a case at `at`, as Sluice profile ids. */
  const expectedProfiles = (name: string, at: Date): string[] => {
    const customers = expected.get(at)!.get(name)!;
    const profiles = new Set(customers.map((c) => h.identity.profileOfEvent(c, null) ?? `unknown ${c}`));
    expect(profiles.size).toBe(customers.length);
    return [...profiles].sort();
  };

  beforeAll(async () => {
    h = await openSegmentHarness(engine, NOW.getTime());
    const customers = await h.store.sources.create({ name: 'customers', kind: 'profiles' });
    const orders = await h.store.sources.create({ name: 'orders', kind: 'events' });
    const importLines = async (path: string) => {
      const report = await importFile(h.store, { source: orders, path, mapping: LINE_MAPPING });
      imported.stored += report.rowsStored;
      imported.rejected += report.rowsRejected;
      await h.identity.settle();
      await h.segments.settle();
    };
    await importFile(h.store, { source: customers, path: files.customers, mapping: CUSTOMER_MAPPING });
    await importLines(files.early);
    for (const t of TRAITS) await h.store.traits.create(t);
    await h.identity.refreshTraits();
    await h.segments.settle();
    // Those that refer to other segments need their ids: they come second.
    for (const round of [CASES.filter((c) => !c.uses), CASES.filter((c) => c.uses)]) {
      const made = await h.segments.createAll(
        round.map((c) => ({ name: c.name, condition: c.condition(ids) })),
      );
      for (const [i, s] of made.entries()) ids.set(round[i]!.name, s.id);
    }
    await importLines(files.late);
    await h.segments.evaluate({ now: NOW });
  }, 900_000);

  afterAll(async () => {
    await h?.close();
  });

  it('imports every line with a CustomerID as an event and rejects the others', () => {
    expect(imported).toEqual({ stored: 406_829, rejected: 135_080 });
  });

  describe('at NOW', () => {
    let batch: Map<string, string[]>;
    beforeAll(async () => {
      batch = await batchMembers(NOW);
      // Minutes on a loaded 2-core machine: the batch SQL runs over every imported purchase.
    }, 300_000);

    it.each(CASES.map((c) => [c.name, c] as const))('%s: the oracle’s members', async (name, c) => {
      const id = ids.get(name)!;
      expect(h.segments.get(id).mode).toBe(c.mode);
      const want = expectedProfiles(name, NOW);
      expect(want.length).toBeGreaterThan(0);
      expect((batch.get(id) ?? []).sort()).toEqual(want);
      expect(await h.members(id)).toEqual(want);
    });
  });

  describe('a week later, the streaming segments moved by their timers alone', () => {
    let batch: Map<string, string[]>;
    beforeAll(async () => {
      h.clock.now = LATER.getTime();
      await h.segments.tick();
      await h.segments.evaluate({ now: LATER });
      batch = await batchMembers(LATER);
    }, 300_000);

    it.each(CASES.map((c) => [c.name] as const))('%s: the oracle’s members', async (name) => {
      const id = ids.get(name)!;
      const want = expectedProfiles(name, LATER);
      expect((batch.get(id) ?? []).sort()).toEqual(want);
      expect(await h.members(id)).toEqual(want);
    });
  });
});
