import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { folderTarget } from '../../../test-support/conformance/folder-target.js';
import { batchOf } from '../../../test-support/conformance.js';

describe('folderTarget', () => {
  it('reads back what the folder connector wrote, and refuses its bad config', async () => {
    const setup = await folderTarget.start();
    const scratch = await mkdtemp(join(tmpdir(), 'folder-target-'));
    try {
      const ctx = { config: setup.config, signal: new AbortController().signal, tempDir: scratch };
      expect(await setup.present()).toEqual([]);
      await folderTarget.connector.deliver(ctx, batchOf(setup.rows(3)));
      await folderTarget.connector.deliver(ctx, batchOf(setup.rows(3)));
      await folderTarget.connector.deliver(
        ctx,
        batchOf(setup.rows(2, 3), { runId: 'run_2', key: 'run_2:d:0' }),
      );
      expect(await setup.present()).toEqual(setup.rows(5).map(setup.keyOf));
      expect(await setup.received()).toBe(5);
      await folderTarget.connector.test(ctx);
      await expect(folderTarget.connector.test({ ...ctx, config: setup.badConfig })).rejects.toThrow(
        /^path: /,
      );
    } finally {
      await setup.close();
      await rm(scratch, { recursive: true, force: true });
    }
  });
});
