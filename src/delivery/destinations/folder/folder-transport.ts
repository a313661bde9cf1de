import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, copyFile, open, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from '../../../core/index.js';
import type { FileTransport } from '../../files/file-transport.js';

/**
 * Puts files into a local directory. Each file is copied to a hidden temporary name beside its
 * final one, flushed to disk, then renamed over it: readers see the old file or the whole new
 * one, never half, and a crash leaves at most a `.tmp` file that no reader takes for data.
 */
export function folderTransport(directory: string): FileTransport {
  return {
    async check() {
      const info = await stat(directory).catch(() => undefined);
      if (!info?.isDirectory()) throw pathError(`${directory} is not an existing directory`);
      const probe = join(directory, temporaryName('sluice-check'));
      try {
        await access(directory, constants.W_OK);
        const handle = await open(probe, 'wx');
        await handle.close();
      } catch (err) {
        throw pathError(`${directory} is not writable (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      } finally {
        await rm(probe, { force: true });
      }
    },
    async put(localPath, remoteName) {
      const finalPath = join(directory, remoteName);
      const temporary = join(directory, temporaryName(remoteName));
      try {
        await copyFile(localPath, temporary);
        await flush(temporary);
        await rename(temporary, finalPath);
      } catch (err) {
        await rm(temporary, { force: true });
        throw err;
      }
      // The rename itself is durable only once the directory entry is on disk.
      await flush(directory);
      return { location: finalPath, bytes: (await stat(finalPath)).size };
    },
    async close() {},
  };
}

function temporaryName(name: string): string {
  return `.${name}.${randomBytes(6).toString('hex')}.tmp`;
}

async function flush(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function pathError(problem: string): UserError {
  const message = `path: ${problem}`;
  return new UserError('destination_unreachable', message, [
    { code: 'destination_unreachable', path: ['path'], message },
  ]);
}
