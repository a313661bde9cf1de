import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { parse } from 'csv-parse/sync';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CreateDestinationSchema,
  CreateOrchestrationSchema,
  CreatePolicySchema,
  UserError,
} from '../core/index.js';
import { CONNECTORS } from '../delivery/connectors.js';
import { type Delivery, openDelivery } from '../delivery/index.js';
import { Scheduler } from '../scheduler/index.js';
import { eventually, failureOf, quickSettings } from '../test-support/delivery.js';
import { ENGINES, openTestStore, type TestStore } from '../test-support/engines.js';
import { TEST_SECRET_KEY } from '../test-support/server.js';
import { addOrder, seedWorkspace } from '../test-support/workspace.js';
import { PolicyService } from './governance/index.js';
import { OrchestrationService } from './orchestration-service.js';

const silent = { info: () => {}, error: () => {} };

/** Orders per profile, with a first name out of the attributes document. */
const ORDERS_QUERY = `SELECT p.profile_id, p.attributes->>'first_name' AS first_name, count(e.message_id) AS orders
FROM profiles p LEFT JOIN events e ON e.profile_id = p.profile_id AND e.event = 'Order Completed'
GROUP BY p.profile_id, p.attributes->>'first_name'
ORDER BY p.profile_id`;

describe.each(ENGINES)('orchestrations on %s', (engine) => {
  let t: TestStore;
  let delivery: Delivery;
  let scheduler: Scheduler;
  let service: OrchestrationService;
  let now: Date;
  const folders: string[] = [];

  const at = (iso: string) => {
    now = new Date(iso);
  };
  /** A folder destination writing `format` files named after the orchestration and the day. */
  const folderDestination = async (format: 'csv' | 'parquet') => {
    const path = await mkdtemp(join(tmpdir(), `orchestration-${format}-`));
    folders.push(path);
    const destination = await delivery.destinations.create(
      CreateDestinationSchema.parse({
        name: `exports ${format} ${folders.length}`,
        connector: 'folder',
        config: { path, format, filenameTemplate: '{{activation_name}}_{{date:yyyy-MM-dd}}' },
        settings: quickSettings(),
      }),
    );
    return { id: destination.id, path };
  };
  const create = (input: Record<string, unknown>) =>
    service.create(
      CreateOrchestrationSchema.parse({
        name: 'orders',
        query: ORDERS_QUERY,
        schedule: { kind: 'now' },
        ...input,
      }),
    );
  /** Waits until every delivery of an outbox run is delivered, and answers them. */
  const delivered = (runId: string) =>
    eventually(`run ${runId} delivered`, async () => {
      const list = await t.store.deliveries.list({ runId, limit: 100 });
      return list.length > 0 && list.every((d) => d.status === 'delivered') ? list : undefined;
    });
  const deliveriesOf = async (runId: string | undefined) =>
    runId === undefined ? [] : t.store.deliveries.list({ runId, limit: 100 });

  beforeEach(async () => {
    t = await openTestStore(engine);
    await seedWorkspace(t.store);
    delivery = await openDelivery(t.store, {
      dataDir: t.location.dataDir,
      secretKey: TEST_SECRET_KEY,
      connectors: CONNECTORS,
      log: silent,
      workers: true,
      engine: { pollMs: 50, closeGraceMs: 200 },
    });
    await delivery.engine!.start();
    at('2026-03-27T08:00:00Z');
    scheduler = new Scheduler(t.store, { log: silent, now: () => now });
    service = new OrchestrationService(t.store, delivery, scheduler, { log: silent, now: () => now });
  });
  afterEach(async () => {
    await scheduler.close();
    await delivery.engine?.close();
    await t.cleanup();
    await Promise.all(folders.splice(0).map((f) => rm(f, { recursive: true, force: true })));
  });

  it('runs on its schedule and writes a CSV and a Parquet file that read back as the query’s result', async () => {
    const csv = await folderDestination('csv');
    const parquet = await folderDestination('parquet');
    const daily = { kind: 'recurring', cron: '0 9 * * *', timeZone: 'UTC' };
    const toCsv = await create({ name: 'orders csv', destinationId: csv.id, schedule: daily });
    const toParquet = await create({ name: 'orders parquet', destinationId: parquet.id, schedule: daily });
    expect(toCsv.columns).toEqual(['profile_id', 'first_name', 'orders']);
    expect(toCsv.nextRunAt).toEqual(new Date('2026-03-27T09:00:00Z'));

    expect(await scheduler.tick()).toBe(0);
    at('2026-03-27T09:00:02Z');
    expect(await scheduler.tick()).toBe(2);
    const [csvRun] = await service.runs(toCsv.id);
    const [parquetRun] = await service.runs(toParquet.id);
    expect(csvRun).toMatchObject({ status: 'succeeded', rowCount: 3, skipped: false });
    expect(csvRun!.dueAt).toEqual(new Date('2026-03-27T09:00:00Z'));
    await delivered(csvRun!.runId!);
    await delivered(parquetRun!.runId!);

    const expected = [
      { profile_id: 'prf_ann', first_name: 'Ann', orders: '1' },
      { profile_id: 'prf_bob', first_name: 'Bob', orders: '1' },
      { profile_id: 'prf_cid', first_name: 'Cid', orders: '1' },
    ];
    expect(await readdir(csv.path)).toEqual(['orders csv_2026-03-27.csv']);
    const text = await readFile(join(csv.path, 'orders csv_2026-03-27.csv'), 'utf8');
    expect(parse(text, { columns: true })).toEqual(expected);

    expect(await readdir(parquet.path)).toEqual(['orders parquet_2026-03-27.parquet']);
    const duck = await DuckDBInstance.create(':memory:');
    const connection = await duck.connect();
    const read = await connection.runAndReadAll(
      `SELECT * FROM read_parquet('${join(parquet.path, 'orders parquet_2026-03-27.parquet')}')`,
    );
    expect(read.columnNames()).toEqual(['profile_id', 'first_name', 'orders']);
    // Parquet keeps the count a number.
    expect(read.getRowObjectsJS()).toEqual(expected.map((row) => ({ ...row, orders: BigInt(row.orders) })));
    connection.closeSync();
    duck.closeSync();

    // The next day's tick, once, after a new order: the new file has it.
    await addOrder(t.store, 'msg_new', 'ann', 5);
    at('2026-03-28T09:30:00Z');
    expect(await scheduler.tick()).toBe(2);
    expect(await scheduler.tick()).toBe(0);
    const [second] = await service.runs(toCsv.id);
    await delivered(second!.runId!);
    const next = await readFile(join(csv.path, 'orders csv_2026-03-28.csv'), 'utf8');
    expect(parse(next, { columns: true })[0]).toEqual({
      profile_id: 'prf_ann',
      first_name: 'Ann',
      orders: '2',
    });
  });

  it('with skipUnchanged, sends nothing when the result did not change, and sends when it did', async () => {
    const csv = await folderDestination('csv');
    const orchestration = await create({ destinationId: csv.id, skipUnchanged: true });
    const first = await service.run(orchestration.id, new Date('2026-03-27T09:00:00Z'));
    expect(first).toMatchObject({ status: 'succeeded', skipped: false, rowCount: 3 });
    expect(first.resultHash).toMatch(/^[0-9a-f]{64}$/);
    expect(await deliveriesOf(first.runId)).toHaveLength(1);

    const same = await service.run(orchestration.id, new Date('2026-03-28T09:00:00Z'));
    expect(same).toMatchObject({
      status: 'succeeded',
      skipped: true,
      rowCount: 3,
      resultHash: first.resultHash,
    });
    expect(same.runId).toBeUndefined();
    expect((await t.store.deliveries.list({ destinationId: csv.id, limit: 100 })).length).toBe(1);

    await addOrder(t.store, 'msg_new', 'bob', 7);
    const changed = await service.run(orchestration.id, new Date('2026-03-29T09:00:00Z'));
    expect(changed).toMatchObject({ status: 'succeeded', skipped: false, rowCount: 3 });
    expect(changed.resultHash).not.toBe(first.resultHash);
    await delivered(changed.runId!);
    const text = await readFile(join(csv.path, 'orders_2026-03-29.csv'), 'utf8');
    expect(parse(text, { columns: true })[1]).toEqual({
      profile_id: 'prf_bob',
      first_name: 'Bob',
      orders: '2',
    });

    // Without skipUnchanged the same result goes out again.
    await service.update(orchestration.id, { skipUnchanged: false });
    const again = await service.run(orchestration.id, new Date('2026-03-30T09:00:00Z'));
    expect(again).toMatchObject({ skipped: false, resultHash: changed.resultHash });
    expect(await deliveriesOf(again.runId)).toHaveLength(1);
  });

  it('a repeated run of one due time delivers nothing twice, even after a crash mid-run', async () => {
    const csv = await folderDestination('csv');
    const orchestration = await create({ destinationId: csv.id });
    const due = new Date('2026-03-27T09:00:00Z');
    const first = await service.run(orchestration.id, due);
    await delivered(first.runId!);

    // Done already: the same run, nothing read or enqueued.
    expect(await service.run(orchestration.id, due)).toEqual(first);
    // A crash after the enqueue, before the run was recorded: the outbox knows the run id.
    await t.store.orchestrations.start({
      id: first.id,
      orchestrationId: orchestration.id,
      dueAt: due,
      startedAt: now,
    });
    const resumed = await service.run(orchestration.id, due);
    expect(resumed).toMatchObject({ id: first.id, status: 'succeeded', runId: first.runId });
    expect(resumed.rowCount).toBeUndefined();
    expect(await deliveriesOf(first.runId)).toHaveLength(1);
    expect((await service.runs(orchestration.id)).map((r) => r.id)).toEqual([first.id]);
    expect(await readdir(csv.path)).toEqual(['orders_2026-03-27.csv']);
  });

  it('records a failed run with the database’s message, and the scheduler hears of it', async () => {
    const csv = await folderDestination('csv');
    const orchestration = await create({
      destinationId: csv.id,
      query: "SELECT profile_id, CAST(attributes->>'first_name' AS INTEGER) AS n FROM profiles",
    });
    at('2026-03-27T08:00:01Z');
    expect(await scheduler.tick()).toBe(1);
    const [run] = await service.runs(orchestration.id);
    expect(run).toMatchObject({ status: 'failed', skipped: false });
    expect(run!.error).toMatch(/Ann|integer|INT/i);
    const schedule = await t.store.schedules.get('orchestration', orchestration.id);
    expect(schedule!.lastError).toBe(run!.error);
  });

  it('refuses a query that would send a value a data-usage policy forbids, when saved and again when run', async () => {
    const csv = await folderDestination('csv');
    await delivery.destinations.update(csv.id, { marketingActions: ['export'] });
    await t.store.labels.set('identifier:email', ['pii'], now);
    await new PolicyService(t.store).create(
      CreatePolicySchema.parse({ name: 'No PII out', labels: ['pii'], marketingActions: ['export'] }),
    );
    const emails = await failureOf(
      create({
        destinationId: csv.id,
        query: "SELECT profile_id, value AS contact FROM identifiers WHERE namespace = 'email'",
      }),
      UserError,
    );
    expect(emails.code).toBe('policy_violation');
    expect(emails.issues).toEqual([
      {
        code: 'policy_violation',
        path: ['query'],
        message: expect.stringMatching(
          /identifier:email \(label pii\) may not go to exports csv \d+ \(export\): policy No PII out/,
        ),
      },
    ]);
    // Allowed when saved; refused at the run once its first_name is labelled, and nothing is written.
    const names = await create({
      destinationId: csv.id,
      query: "SELECT profile_id, attributes->>'first_name' AS given FROM profiles",
    });
    await t.store.labels.set('first_name', ['pii'], now);
    at('2026-03-27T08:00:01Z');
    expect(await scheduler.tick()).toBe(1);
    const [run] = await service.runs(names.id);
    expect(run).toMatchObject({ status: 'failed' });
    expect(run!.error).toMatch(/first_name \(label pii\)/);
    expect(await readdir(csv.path)).toEqual([]);
  });

  it('refuses an orchestration with every problem at once, each naming its field', async () => {
    const webhook = await delivery.destinations.create(
      CreateDestinationSchema.parse({
        name: 'hook',
        connector: 'webhook',
        config: { url: 'http://127.0.0.1:9/hook', secret: `whsec_${Buffer.alloc(32, 7).toString('base64')}` },
      }),
    );
    const err = await failureOf(
      create({
        destinationId: webhook.id,
        query: 'SELECT key_hash FROM api_keys',
        schedule: { kind: 'recurring', cron: 'every day', timeZone: 'UTC' },
      }),
      UserError,
    );
    expect(err.issues.map((i) => [i.path.join('.'), i.code])).toEqual([
      ['destinationId', 'not_a_file_destination'],
      ['query', engine === 'duckdb' ? 'query_not_read_only' : 'invalid_query'],
      ['schedule.cron', 'invalid_cron'],
    ]);
    const missing = await failureOf(create({ destinationId: 'dst_nope' }), UserError);
    expect(missing.issues).toEqual([expect.objectContaining({ path: ['destinationId'], code: 'not_found' })]);
    expect(await service.list()).toEqual([]);
  });

  it('disabling removes the schedule, enabling puts it back; deleting removes both', async () => {
    const csv = await folderDestination('csv');
    const daily = { kind: 'recurring', cron: '0 9 * * *', timeZone: 'UTC' };
    const orchestration = await create({ destinationId: csv.id, schedule: daily });
    expect((await service.update(orchestration.id, { enabled: false })).nextRunAt).toBeNull();
    expect((await service.update(orchestration.id, { name: 'renamed' })).nextRunAt).toBeNull();
    const enabled = await service.update(orchestration.id, { enabled: true });
    expect(enabled).toMatchObject({ name: 'renamed', enabled: true, skipUnchanged: false });
    expect(enabled.nextRunAt).toEqual(new Date('2026-03-27T09:00:00Z'));
    await service.delete(orchestration.id);
    expect(await t.store.schedules.get('orchestration', orchestration.id)).toBeUndefined();
    await expect(service.get(orchestration.id)).rejects.toThrow(/not found/);
  });
});
