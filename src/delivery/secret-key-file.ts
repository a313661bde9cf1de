import { randomBytes } from 'node:crypto';
import { link, open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from '../core/index.js';

/**
 * The embedded store's secret key when `SLUICE_SECRET_KEY` is not set: `secret.key` in the data
 * directory, made on first use (readable by the owner only). Back it up with the store: without
 * it, stored credentials must be entered again.
 */
export async function embeddedSecretKey(dataDir: string): Promise<{ key: string; created: boolean }> {
  const path = join(dataDir, 'secret.key');
  const existing = await readKey(path);
  if (existing !== undefined) return { key: existing, created: false };
  const key = randomBytes(32).toString('base64url');
  // Written whole and synced under a temporary name, then linked: the file is complete or absent,
  // and of two processes racing to create it, both end up with the first one's key.
  const temp = `${path}.${process.pid}.tmp`;
  const handle = await open(temp, 'w', 0o600);
  try {
    await handle.writeFile(`${key}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await link(temp, path).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
  });
  await unlink(temp);
  return { key: (await readKey(path))!, created: true };
}

async function readKey(path: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const key = text.trim();
  if (key.length < 32) {
    throw new UserError(
      'secret_key_invalid',
      `${path} holds no usable key (fewer than 32 characters): restore it from a backup`,
    );
  }
  return key;
}
