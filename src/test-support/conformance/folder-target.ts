import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { folderConnector } from '../../delivery/destinations/folder/index.js';
import {
  CONFORMANCE_FILE_TEMPLATE,
  type ConformanceTarget,
  csvReadBack,
  isCsvDataFile,
} from '../conformance.js';

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
      filenameTemplate: CONFORMANCE_FILE_TEMPLATE,
    });
    return {
      config,
      badConfig: { ...(config as Record<string, unknown>), path: join(folder, 'does-not-exist') },
      ...csvReadBack(async () => {
        const names = (await readdir(folder)).filter(isCsvDataFile);
        return Promise.all(names.map((name) => readFile(join(folder, name), 'utf8')));
      }),
      close: () => rm(folder, { recursive: true, force: true }),
    };
  },
};
