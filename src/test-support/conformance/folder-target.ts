import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { folderConnector } from '../../delivery/destinations/folder/index.js';
import type { DeliveryRecord } from '../../delivery/index.js';
import type { ConformanceTarget } from '../conformance.js';

/**
 * The folder connector writing CSV into a fresh directory, read back with `csv-parse`. File names
 * carry the run and batch, so distinct batches are distinct files and a resend replaces its own.
 */
export const folderTarget: ConformanceTarget = {
  connector: folderConnector,
  secrets: [],
  async start() {
    const folder = await mkdtemp(join(tmpdir(), 'conformance-folder-'));
    const config = folderConnector.configSchema.parse({
      path: folder,
      format: 'csv',
      filenameTemplate: '{{activation_name}}_{{group_name}}_{{run_id}}_{{batch}}',
    });
    const rows = async (): Promise<Record<string, string>[]> => {
      // Data files only: not the .DONE markers, nor a transport's hidden temporary files.
      const names = (await readdir(folder)).filter((name) => name.endsWith('.csv') && !name.startsWith('.'));
      const files = await Promise.all(names.map((name) => readFile(join(folder, name), 'utf8')));
      return files.flatMap((text) => parse(text, { columns: true }) as Record<string, string>[]);
    };
    return {
      config,
      badConfig: { ...(config as Record<string, unknown>), path: join(folder, 'does-not-exist') },
      rows: people,
      keyOf: (row) => String(row.profile_id),
      present: async () => [...new Set((await rows()).map((row) => row.profile_id ?? ''))].sort(),
      received: async () => (await rows()).length,
      close: () => rm(folder, { recursive: true, force: true }),
    };
  },
};

/** `n` people with `profile_id`, `email` and `first_name`, numbered from `first` (same number, same person). */
function people(n: number, first = 0): DeliveryRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    profile_id: `prof_${String(first + i).padStart(6, '0')}`,
    email: `person${first + i}@example.com`,
    first_name: `Person ${first + i}`,
  }));
}
