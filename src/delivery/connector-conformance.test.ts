import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { folderTarget } from '../test-support/conformance/folder-target.js';
import { googleAdsTarget } from '../test-support/conformance/google-ads-target.js';
import { mailchimpTarget } from '../test-support/conformance/mailchimp-target.js';
import { metaTarget } from '../test-support/conformance/meta-target.js';
import { postgresTarget } from '../test-support/conformance/postgres-target.js';
import { s3Target } from '../test-support/conformance/s3-target.js';
import { sftpTarget } from '../test-support/conformance/sftp-target.js';
import { webhookTarget } from '../test-support/conformance/webhook-target.js';
import { batchOf, type ConformanceSetup, type ConformanceTarget } from '../test-support/conformance.js';
import type { ConnectorContext } from './connector.js';
import { CONNECTORS } from './connectors.js';
import { secretFieldsOf } from './secret-fields.js';

/** Every connector that ships, each driven against its real server or its vendor's documented stand-in. */
const TARGETS: ConformanceTarget[] = [
  folderTarget,
  s3Target,
  sftpTarget,
  webhookTarget,
  postgresTarget,
  metaTarget,
  googleAdsTarget,
  mailchimpTarget,
];

it('covers every connector that ships', () => {
  expect(TARGETS.map((t) => t.connector.id).sort()).toEqual(CONNECTORS.map((c) => c.id).sort());
});

describe.each(TARGETS.map((t) => [t.connector.id, t] as const))('the %s connector', (_id, target) => {
  const { connector } = target;
  let setup: ConformanceSetup;
  let tempDir: string;
  const ctx = (config: unknown): ConnectorContext<unknown> => ({
    config: connector.configSchema.parse(config),
    signal: AbortSignal.timeout(60_000),
    tempDir,
  });

  beforeAll(async () => {
    setup = await target.start();
    tempDir = await mkdtemp(join(tmpdir(), 'sluice-conformance-'));
  });
  afterAll(async () => {
    await setup?.close();
    await rm(tempDir, { recursive: true, force: true });
  });

  it('describes itself: a stable id, a label, consistent capabilities and its secret fields marked', () => {
    expect(connector.id).toMatch(/^[a-z0-9-]+$/);
    expect(connector.label.length).toBeGreaterThan(0);
    expect(secretFieldsOf(connector.configSchema).sort()).toEqual([...target.secrets].sort());
    const capabilities = connector.capabilities(connector.configSchema.parse(setup.config));
    expect(capabilities.maxBatchSize).toBeGreaterThan(0);
    if (capabilities.fields !== 'any') {
      const names = capabilities.fields.map((f) => f.name);
      expect(capabilities.fields.some((f) => f.identifier)).toBe(true);
      for (const f of capabilities.defaultFields) expect(names).toContain(f);
    }
  });

  it('refuses an empty config, naming the fields that are missing', () => {
    const result = connector.configSchema.safeParse({});
    expect(result.success).toBe(false);
    expect(result.error!.issues.every((i) => i.path.length > 0)).toBe(true);
  });

  it('passes its test with a good config and fails it clearly, without the secret, with a bad one', async () => {
    await connector.test(ctx(setup.config));
    const bad = connector.configSchema.parse(setup.badConfig) as Record<string, unknown>;
    const error = await connector.test(ctx(bad)).then(
      () => undefined,
      (err: Error) => err,
    );
    expect(error).toBeInstanceOf(Error);
    expect(error!.message.length).toBeGreaterThan(10);
    for (const name of target.secrets) {
      const value = bad[name];
      if (typeof value === 'string' && value.length >= 4) expect(error!.message).not.toContain(value);
    }
  });

  it('delivers adds, and a resend with the same key counts once', async () => {
    const rows = setup.rows(120);
    const batch = batchOf(rows, { key: 'run_c:dst_c:add:0' });
    const result = await connector.deliver(ctx(setup.config), batch);
    expect(result.accepted).toBe(120);
    expect(result.rejected).toBe(0);
    const keys = rows.map((r) => setup.keyOf(r)).sort();
    expect((await setup.present()).sort()).toEqual(keys);
    const received = await setup.received();
    await connector.deliver(ctx(setup.config), batch);
    expect(await setup.received()).toBe(received);
    expect((await setup.present()).sort()).toEqual(keys);
  });

  it('takes people out of the audience when it supports removals', async () => {
    const capabilities = connector.capabilities(connector.configSchema.parse(setup.config));
    const rows = setup.rows(40, 1000);
    await connector.deliver(ctx(setup.config), batchOf(rows, { key: 'run_r:dst_c:add:0' }));
    const removed = rows.slice(0, 15);
    const removal = batchOf(removed, { key: 'run_r:dst_c:remove:0', operation: 'remove' });
    if (!capabilities.supportsRemovals) {
      await expect(connector.deliver(ctx(setup.config), removal)).rejects.toThrow();
      return;
    }
    const result = await connector.deliver(ctx(setup.config), removal);
    expect(result.accepted).toBe(15);
    const present = new Set(await setup.present());
    for (const r of removed) expect(present.has(setup.keyOf(r))).toBe(false);
    for (const r of rows.slice(15)) expect(present.has(setup.keyOf(r))).toBe(true);
  });

  it('rejects a row it cannot use, with a reason, and delivers the rest', async () => {
    if (!setup.invalidRow) {
      // Without an invalid row, the connector takes whatever fields it is given.
      expect(connector.capabilities(connector.configSchema.parse(setup.config)).fields).toBe('any');
      return;
    }
    const rows = setup.rows(10, 2000);
    const result = await connector.deliver(
      ctx(setup.config),
      batchOf([...rows.slice(0, 5), setup.invalidRow, ...rows.slice(5)], { key: 'run_i:dst_c:add:0' }),
    );
    expect(result.accepted).toBe(10);
    expect(result.rejected).toBe(1);
    expect(result.rejections[0]!.reason.length).toBeGreaterThan(5);
    const present = new Set(await setup.present());
    for (const r of rows) expect(present.has(setup.keyOf(r))).toBe(true);
  });
});
