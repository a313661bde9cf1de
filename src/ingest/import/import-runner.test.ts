import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ImportMapping, ImportMappingSchema, type Source } from '../../core/index.js';
import { DuckDBDatabase } from '../../store/index.js';
import { ENGINES, openTestStore, type TestStore } from '../../test-support/engines.js';
import { importFile } from './import-runner.js';

const mapping: ImportMapping = ImportMappingSchema.parse({
  kind: 'profiles',
  recordId: 'CustomerNo',
  identifiers: { customer_id: 'CustomerNo', email: 'Email', phone: 'Phone' },
  attributes: {
    first_name: 'First Name',
    points: { column: 'Points', type: 'integer' },
    signed_up: { column: 'Signed Up', type: 'date' },
  },
});

describe.each(ENGINES)('file imports on %s', (engine) => {
  let t: TestStore;
  let dir: string;
  let profiles: Source;
  let events: Source;
  beforeEach(async () => {
    t = await openTestStore(engine);
    dir = await mkdtemp(join(tmpdir(), 'sluice-import-'));
    profiles = await t.store.sources.create({ name: 'crm', kind: 'profiles' });
    events = await t.store.sources.create({ name: 'shop', kind: 'events' });
  });
  afterEach(async () => {
    await t.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  async function file(name: string, content: string | Buffer): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, content);
    return path;
  }

  it('stores the good rows of a CSV and rejects the bad ones with their line numbers', async () => {
    const csv = [
      'CustomerNo,Email,Phone,First Name,Points,Signed Up',
      'c1,ann@example.com,(415) 555-2671,Ann,10,2024-01-02',
      ',,,Bob,5,2024-02-03',
      'c3,cat@example.com,,Cat,many,2024-03-04',
      'c4,dan@example.com,,Dan,3',
      'c5,"eve@example.com",+1 415 555 0000,"Eve ""E"" Smith",7,2024-05-06',
      'c6,fay@example.com,,Fay,1,2024-02-30',
    ].join('\n');
    const report = await importFile(t.store, {
      source: profiles,
      path: await file('customers.csv', csv),
      mapping,
    });
    expect(report).toMatchObject({
      status: 'completed',
      rowsRead: 6,
      rowsStored: 2,
      rowsRejected: 4,
      alreadyImported: false,
    });

    const records = await t.store.records.list(profiles.id, 10);
    expect(records.map((r) => r.recordId)).toEqual(['c1', 'c5']);
    expect(records[0]).toMatchObject({
      rowNumber: 2,
      identifiers: { customer_id: ['c1'], email: ['ann@example.com'], phone: ['(415) 555-2671'] },
      attributes: { first_name: 'Ann', points: 10, signed_up: '2024-01-02' },
    });
    expect(records[1]?.attributes.first_name).toBe('Eve "E" Smith');

    const rejects = (await t.store.rejects.list(profiles.id, { limit: 10 })).sort(
      (a, b) => a.rowNumber! - b.rowNumber!,
    );
    expect(rejects.map((r) => [r.rowNumber, r.reason])).toEqual([
      [3, expect.stringContaining('no identifier')],
      [4, 'Points: "many" is not an integer'],
      [5, 'expected 6 columns, found 5'],
      [7, 'Signed Up: "2024-02-30" is not a date'],
    ]);
    expect(rejects.every((r) => r.importId === report.id)).toBe(true);
  });

  it('keeps reading after a malformed CSV record', async () => {
    const csv = ['email,name', 'a@x.com,"Ann', 'b@x.com,Bob'].join('\n');
    const report = await importFile(t.store, { source: profiles, path: await file('bad-quote.csv', csv) });
    // The unterminated quote swallows the rest of the file: csv-parse reports it as one bad record.
    expect(report.rowsRejected).toBeGreaterThanOrEqual(1);
    const rejects = await t.store.rejects.list(profiles.id, { limit: 10 });
    expect(rejects[0]?.reason).toMatch(/quote/i);
    const ok = ['email,name', 'a@x.com,An"n', 'b@x.com,Bob'].join('\n');
    const second = await importFile(t.store, { source: profiles, path: await file('inner-quote.csv', ok) });
    expect(second.rowsStored + second.rowsRejected).toBe(2);
    expect(
      (await t.store.records.list(profiles.id, 10)).some((r) => r.identifiers.email?.[0] === 'b@x.com'),
    ).toBe(true);
  });

  it('stores text PostgreSQL cannot hold (NUL, unpaired surrogates) as U+FFFD, without failing the file', async () => {
    const csv = `email,name\na@x.com,A\u0000nn\nb@x.com,B\ud800ob\nc@x.com,Cat\n`;
    const report = await importFile(t.store, { source: profiles, path: await file('nul.csv', csv) });
    expect(report).toMatchObject({ rowsRead: 3, rowsStored: 3, rowsRejected: 0 });
    const names = (await t.store.records.list(profiles.id, 10)).map((r) => r.attributes.name).sort();
    expect(names).toEqual(['A\ufffdnn', 'B\ufffdob', 'Cat']);
  });

  it('is idempotent: the same content imported again stores nothing more', async () => {
    const path = await file('c.csv', 'email,name\na@x.com,Ann\nb@x.com,Bob\n');
    const first = await importFile(t.store, { source: profiles, path });
    const again = await importFile(t.store, {
      source: profiles,
      path: await file('copy.csv', 'email,name\na@x.com,Ann\nb@x.com,Bob\n'),
    });
    expect(first.alreadyImported).toBe(false);
    expect(again).toMatchObject({ alreadyImported: true, id: first.id, rowsStored: 2 });
    expect((await t.store.records.list(profiles.id, 10)).length).toBe(2);
  });

  it('redoes an import whose earlier attempt was cut off, without keeping its partial rows', async () => {
    const path = await file('c.csv', 'email,name\na@x.com,Ann\nb@x.com,Bob\n');
    const first = await importFile(t.store, { source: profiles, path });
    // Pretend the process died mid-way: the import is still "running".
    await t.store.db.query(`UPDATE imports SET status = 'running' WHERE id = $1`, [first.id]);
    const redo = await importFile(t.store, { source: profiles, path });
    expect(redo.id).not.toBe(first.id);
    expect((await t.store.records.list(profiles.id, 10)).length).toBe(2);
  });

  it('infers a mapping from the header when none is given', async () => {
    const report = await importFile(t.store, {
      source: profiles,
      path: await file('loyalty.csv', 'Loyalty ID,E-mail,Mobile,Tier\nL1,a@x.com,555,gold\n'),
    });
    expect(report.rowsStored).toBe(1);
    const [record] = await t.store.records.list(profiles.id, 1);
    expect(record?.identifiers).toEqual({ loyalty_id: ['L1'], email: ['a@x.com'], phone: ['555'] });
    expect(record?.attributes).toEqual({ tier: 'gold' });
  });

  it('refuses a mapping that names columns the file does not have, before storing anything', async () => {
    const bad = ImportMappingSchema.parse({ kind: 'profiles', identifiers: { email: 'Mail', phone: 'Tel' } });
    await expect(
      importFile(t.store, { source: profiles, path: await file('x.csv', 'email\na@x.com\n'), mapping: bad }),
    ).rejects.toMatchObject({
      code: 'unknown_column',
      issues: [
        { path: ['mapping', 'identifiers', 'email'], message: 'no column "Mail" in the file' },
        { path: ['mapping', 'identifiers', 'phone'], message: 'no column "Tel" in the file' },
      ],
    });
    expect((await t.store.records.list(profiles.id, 10)).length).toBe(0);
  });

  it('imports gzipped CSV event files with a mapping, rejecting rows that are not valid events', async () => {
    const csv = [
      'InvoiceNo,InvoiceDate,CustomerID,UnitPrice',
      '536365,12/1/2010 8:26,17850,2.55',
      '536366,12/1/2010 8:28,,1.85', // no user
      '536367,13/45/2010 8:34,13047,3.39', // bad date
    ].join('\n');
    const eventMapping = ImportMappingSchema.parse({
      kind: 'events',
      event: { value: 'Order Completed' },
      userId: 'CustomerID',
      messageId: 'InvoiceNo',
      timestamp: { column: 'InvoiceDate', type: 'timestamp', format: 'M/d/yyyy H:mm' },
      properties: { order_id: 'InvoiceNo', price: { column: 'UnitPrice', type: 'number' } },
    });
    const report = await importFile(t.store, {
      source: events,
      path: await file('orders.csv.gz', gzipSync(csv)),
      mapping: eventMapping,
    });
    expect(report).toMatchObject({ rowsRead: 3, rowsStored: 1, rowsRejected: 2 });
    const [stored] = await t.store.events.query({ sourceId: events.id, limit: 10 });
    expect(stored).toMatchObject({
      messageId: '536365',
      userId: '17850',
      event: 'Order Completed',
      properties: { order_id: '536365', price: 2.55 },
    });
    expect(stored?.timestamp.toISOString()).toBe('2010-12-01T08:26:00.000Z');
    const rejects = (await t.store.rejects.list(events.id, { limit: 10 })).sort(
      (a, b) => a.rowNumber! - b.rowNumber!,
    );
    expect(rejects.map((r) => [r.rowNumber, r.reason])).toEqual([
      [3, 'userId or anonymousId is required'],
      [4, '"13/45/2010 8:34" is not a timestamp in the format M/d/yyyy H:mm'],
    ]);
  });

  it('imports Segment-shaped NDJSON events and rejects bad lines with their line numbers', async () => {
    const lines = [
      JSON.stringify({
        type: 'identify',
        userId: 'u1',
        traits: { email: 'a@x.com' },
        timestamp: '2026-01-01T00:00:00Z',
      }),
      '{not json',
      JSON.stringify({ event: 'Product Viewed', anonymousId: 'a1', properties: { sku: 'S1' } }),
      '',
      JSON.stringify({ type: 'track', userId: 'u1' }),
    ].join('\n');
    const report = await importFile(t.store, { source: events, path: await file('events.ndjson', lines) });
    expect(report).toMatchObject({ rowsStored: 2, rowsRejected: 2 });
    const stored = await t.store.events.query({ sourceId: events.id, limit: 10 });
    expect(stored.map((e) => [e.type, e.event]).sort()).toEqual([
      ['identify', null],
      ['track', 'Product Viewed'],
    ]);
    const rejects = (await t.store.rejects.list(events.id, { limit: 10 })).sort(
      (a, b) => a.rowNumber! - b.rowNumber!,
    );
    expect(rejects.map((r) => r.rowNumber)).toEqual([2, 5]);
    expect(rejects[1]?.path).toBe('event');
  });

  it('imports Parquet files', async () => {
    const path = join(dir, 'customers.parquet');
    const duck = await DuckDBDatabase.open(':memory:', 1);
    await duck.query(
      `COPY (SELECT 'c' || i AS customer_id, 'user' || i || '@example.com' AS email, i * 1.5 AS spend FROM range(1, 2501) t(i))
       TO '${path}' (FORMAT parquet, ROW_GROUP_SIZE 1000)`,
    );
    await duck.close();
    const parquetMapping = ImportMappingSchema.parse({
      kind: 'profiles',
      recordId: 'customer_id',
      identifiers: { customer_id: 'customer_id', email: 'email' },
      attributes: { spend: { column: 'spend', type: 'number' } },
    });
    const report = await importFile(t.store, { source: profiles, path, mapping: parquetMapping });
    expect(report).toMatchObject({ rowsRead: 2500, rowsStored: 2500, rowsRejected: 0, format: 'parquet' });
    const [first] = await t.store.records.list(profiles.id, 1);
    expect(first).toMatchObject({ recordId: 'c1', rowNumber: 1, attributes: { spend: 1.5 } });
  });

  it('refuses a mapping of the wrong kind and an unknown format', async () => {
    const path = await file('x.csv', 'email\na@x.com\n');
    const eventMapping = ImportMappingSchema.parse({ kind: 'events', userId: 'email' });
    await expect(
      importFile(t.store, { source: profiles, path, mapping: eventMapping }),
    ).rejects.toMatchObject({ code: 'mapping_kind' });
    await expect(
      importFile(t.store, { source: profiles, path: await file('x.xlsx', 'x') }),
    ).rejects.toMatchObject({ code: 'unknown_format' });
  });
});
