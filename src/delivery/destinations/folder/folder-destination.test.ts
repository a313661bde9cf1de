import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UserError } from '../../../core/index.js';
import { batchOf, failingBatch } from '../../../test-support/conformance.js';
import { type ConnectorContext, DeliveryFailure } from '../../connector.js';
import { fileConnector } from '../../files/file-connector.js';
import { FolderTransportSchema, folderConnector } from './folder-destination.js';
import { folderTransport } from './folder-transport.js';

const PEOPLE = [
  { profile_id: 'p1', email: 'ann@example.com', first_name: 'Ann' },
  { profile_id: 'p2', email: 'bob@example.com', first_name: 'Bob, Jr.' },
  { profile_id: 'p3', email: 'chloe@example.com', first_name: 'Chloé' },
];

let folder: string;
let scratch: string;
beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), 'folder-dest-'));
  scratch = await mkdtemp(join(tmpdir(), 'folder-scratch-'));
});
afterEach(async () => {
  await rm(folder, { recursive: true, force: true });
  await rm(scratch, { recursive: true, force: true });
});

function context(settings: Record<string, unknown> = {}): ConnectorContext<unknown> {
  const config = folderConnector.configSchema.parse({ path: folder, ...settings });
  return { config, signal: new AbortController().signal, tempDir: scratch };
}

const readCsv = async (name: string) => parse(await readFile(join(folder, name), 'utf8')) as string[][];

describe('folder config', () => {
  it('is one flat object: the path plus every file option', () => {
    expect(
      folderConnector.configSchema.parse({ path: '/srv/exports', format: 'tsv', doneMarker: true }),
    ).toEqual({
      path: '/srv/exports',
      format: 'tsv',
      compression: 'none',
      header: true,
      filenameTemplate: '{{activation_name}}_{{group_name}}_{{date:yyyy-MM-dd}}',
      doneMarker: true,
    });
  });

  it.each([
    [{ path: 'exports' }, 'path'],
    [{}, 'path'],
    [{ path: '/srv', filenameTemplate: '{{who}}' }, 'filenameTemplate'],
  ])('names the bad field: %j', (input, field) => {
    const result = folderConnector.configSchema.safeParse(input);
    expect(result.error?.issues.map((issue) => issue.path)).toEqual([[field]]);
  });

  it('declares a file destination that takes any fields and cannot remove people', () => {
    expect(folderConnector.capabilities(context().config)).toEqual({
      kind: 'file',
      fields: 'any',
      defaultFields: [],
      supportsRemovals: false,
      maxBatchSize: 50_000_000,
    });
  });
});

describe('folder test', () => {
  it('passes for a writable directory and leaves nothing in it', async () => {
    await folderConnector.test(context());
    expect(await readdir(folder)).toEqual([]);
  });

  it('fails with a UserError naming path when the directory is missing', async () => {
    const ctx = context();
    (ctx.config as { path: string }).path = join(folder, 'missing');
    const error = await folderConnector.test(ctx).catch((e) => e);
    expect(error).toBeInstanceOf(UserError);
    expect(error.issues[0].path).toEqual(['path']);
    expect(error.message).toMatch(/not an existing directory/);
  });

  it('fails when the path is a file', async () => {
    await writeFile(join(folder, 'a-file'), 'x');
    const ctx = context();
    (ctx.config as { path: string }).path = join(folder, 'a-file');
    await expect(folderConnector.test(ctx)).rejects.toThrow(/^path: .*not an existing directory/);
  });

  it('fails with a UserError naming pgpPublicKey when the key cannot be read', async () => {
    const key =
      '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nnot base64 at all\n-----END PGP PUBLIC KEY BLOCK-----';
    const error = await folderConnector.test(context({ pgpPublicKey: key })).catch((e) => e);
    expect(error).toBeInstanceOf(UserError);
    expect(error.issues[0].path).toEqual(['pgpPublicKey']);
  });
});

describe('folder deliver', () => {
  it('writes the batch as a CSV file and reports what it wrote', async () => {
    const result = await folderConnector.deliver(context(), batchOf(PEOPLE));
    const name = 'Spring Sale_Treatment A_2026-03-14.csv';
    expect(await readdir(folder)).toEqual([name]);
    expect(await readCsv(name)).toEqual([
      ['profile_id', 'email', 'first_name'],
      ...PEOPLE.map((p) => [p.profile_id, p.email, p.first_name]),
    ]);
    const bytes = (await stat(join(folder, name))).size;
    expect(result).toEqual({
      accepted: 3,
      rejected: 0,
      rejections: [],
      detail: { files: [{ name, rows: 3, bytes }] },
    });
    expect(await readdir(scratch)).toEqual([]);
  });

  it('a retry of the same batch replaces the same file', async () => {
    await folderConnector.deliver(context(), batchOf(PEOPLE));
    await folderConnector.deliver(context(), batchOf(PEOPLE.slice(0, 2)));
    expect(await readdir(folder)).toEqual(['Spring Sale_Treatment A_2026-03-14.csv']);
    expect(await readCsv('Spring Sale_Treatment A_2026-03-14.csv')).toHaveLength(3);
  });

  it('batches of one run never overwrite each other', async () => {
    for (const index of [0, 1]) {
      await folderConnector.deliver(context(), batchOf(PEOPLE, { index, count: 2 }));
    }
    expect((await readdir(folder)).sort()).toEqual([
      'Spring Sale_Treatment A_2026-03-14_batch001.csv',
      'Spring Sale_Treatment A_2026-03-14_batch002.csv',
    ]);
  });

  it('writes the .DONE marker after every data file', async () => {
    const puts: string[] = [];
    const recording = fileConnector({
      id: 'recording-folder',
      label: 'Recording folder',
      transportSchema: FolderTransportSchema,
      openTransport: async (ctx) => {
        const inner = folderTransport(ctx.config.path);
        return {
          check: () => inner.check(),
          async put(local, remote) {
            // Every data file must already be complete in the folder when the marker arrives.
            if (remote.endsWith('.DONE'))
              puts.push(`marker sees ${(await readdir(folder)).sort().join(' ')}`);
            puts.push(remote);
            return inner.put(local, remote);
          },
          close: () => inner.close(),
        };
      },
    });
    const result = await recording.deliver(context({ doneMarker: true, maxRowsPerFile: 2 }), batchOf(PEOPLE));
    const base = 'Spring Sale_Treatment A_2026-03-14';
    expect(puts).toEqual([
      `${base}_part001.csv`,
      `${base}_part002.csv`,
      `marker sees ${base}_part001.csv ${base}_part002.csv`,
      `${base}.csv.DONE`,
    ]);
    expect(await readFile(join(folder, `${base}.csv.DONE`), 'utf8')).toBe('');
    expect(result.detail).toMatchObject({ doneMarker: `${base}.csv.DONE` });
  });

  it('a failed put leaves no file under the final name, no temporary file and no marker', async () => {
    // A directory squatting on the second part's name makes its rename fail.
    const base = 'Spring Sale_Treatment A_2026-03-14';
    await mkdir(join(folder, `${base}_part002.csv`));
    const error = await folderConnector
      .deliver(context({ doneMarker: true, maxRowsPerFile: 2 }), batchOf(PEOPLE))
      .catch((e) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(DeliveryFailure);
    const left = await readdir(folder);
    expect(left.filter((name) => name.endsWith('.tmp'))).toEqual([]);
    expect(left).not.toContain(`${base}.csv.DONE`);
    expect((await stat(join(folder, `${base}_part002.csv`))).isDirectory()).toBe(true);
    expect(await readdir(scratch)).toEqual([]);
  });

  it('a failed encode puts nothing and leaves no scratch files', async () => {
    const batch = failingBatch(PEOPLE, 1, 'store went away');
    await expect(folderConnector.deliver(context(), batch)).rejects.toThrow('store went away');
    expect(await readdir(folder)).toEqual([]);
    expect(await readdir(scratch)).toEqual([]);
  });

  it('refuses a remove batch', async () => {
    const error = await folderConnector
      .deliver(context(), batchOf(PEOPLE, { operation: 'remove' }))
      .catch((e) => e);
    expect(error).toBeInstanceOf(DeliveryFailure);
    expect(error.disposition).toBe('refused');
    expect(await readdir(folder)).toEqual([]);
  });

  it('refuses, rather than retries, a key that cannot encrypt', async () => {
    const key =
      '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nnot base64 at all\n-----END PGP PUBLIC KEY BLOCK-----';
    const error = await folderConnector
      .deliver(context({ pgpPublicKey: key }), batchOf(PEOPLE))
      .catch((e) => e);
    expect(error).toBeInstanceOf(DeliveryFailure);
    expect(error.disposition).toBe('refused');
    expect(error.message).toMatch(/^pgpPublicKey /);
    expect(await readdir(folder)).toEqual([]);
  });
});
