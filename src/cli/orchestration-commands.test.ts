import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

// Each command is a process of its own over one DuckDB data dir, as an operator would run them.
describe('sluice orchestrations on DuckDB', { timeout: 90_000 }, () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'sluice-cli-orchestrations-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  function sluice(...args: string[]): Promise<Run> {
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', 'src/cli/main.ts', ...args],
        {
          cwd: ROOT,
          env: { ...process.env, SLUICE_DATA_DIR: dataDir, SLUICE_DATABASE_URL: '', SLUICE_ADMIN_KEY: '' },
          timeout: 60_000,
        },
        (err, stdout, stderr) => {
          const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
          resolve({ code, stdout, stderr });
        },
      );
    });
  }

  it('previews, refuses a write, creates, lists, runs and deletes', async () => {
    const preview = await sluice('orchestrations', 'preview', 'SELECT 1 AS one, 2 AS two', '--limit', '5');
    expect(preview.code, preview.stderr).toBe(0);
    expect(JSON.parse(preview.stdout)).toEqual({ columns: ['one', 'two'], rows: [{ one: 1, two: 2 }] });

    const refused = await sluice('orchestrations', 'preview', 'DELETE FROM events');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('error: only one read-only SELECT over the workspace views is allowed');

    const folder = join(dataDir, 'exports');
    await mkdir(folder);
    const destination = await sluice(
      'destinations',
      'create',
      '--json',
      JSON.stringify({ name: 'exports', connector: 'folder', config: { path: folder } }),
    );
    expect(destination.code, destination.stderr).toBe(0);
    const destinationId = (JSON.parse(destination.stdout) as { id: string }).id;

    const created = await sluice(
      'orchestrations',
      'create',
      '--json',
      JSON.stringify({
        name: 'identifiers export',
        query: 'SELECT namespace, count(*) AS n FROM identifiers GROUP BY namespace',
        destinationId,
        schedule: { kind: 'recurring', cron: '0 6 * * *', timeZone: 'Europe/Paris' },
      }),
    );
    expect(created.code, created.stderr).toBe(0);
    const orchestration = JSON.parse(created.stdout) as { id: string; columns: string[] };
    expect(orchestration.columns).toEqual(['namespace', 'n']);

    const list = await sluice('orchestrations', 'list');
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain('identifiers export');

    const run = await sluice('orchestrations', 'run', orchestration.id);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ status: 'succeeded', rowCount: 0, skipped: false });

    const deleted = await sluice('orchestrations', 'delete', orchestration.id);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect((await sluice('orchestrations', 'list')).stdout).not.toContain('identifiers export');
  });
});
