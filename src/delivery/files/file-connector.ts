import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { z } from 'zod';
import { UserError } from '../../core/index.js';
import { type Connector, DeliveryFailure, defineConnector } from '../connector.js';
import { encodeBatch } from './file-encoder.js';
import { type FileOptions, FileOptionsSchema } from './file-options-schema.js';
import { type OpenTransport, withTransport } from './file-transport.js';
import { readEncryptionKey } from './pgp-encryption.js';

/**
 * A file destination built from a transport: the config is the transport's fields plus the file
 * options in one flat object. `deliver` encodes the batch, puts every part, then the `.DONE`
 * marker, so a reader that waits for the marker finds every data file complete.
 */
export function fileConnector<S extends z.ZodObject>(spec: {
  id: string;
  label: string;
  transportSchema: S;
  openTransport: OpenTransport<z.output<S> & FileOptions>;
}): Connector<unknown> {
  type Config = z.output<S> & FileOptions;
  // safeExtend keeps the transport's own checks across fields (e.g. exactly one SFTP credential).
  const configSchema = spec.transportSchema.safeExtend(FileOptionsSchema.shape);
  return defineConnector({
    id: spec.id,
    label: spec.label,
    configSchema: configSchema as unknown as z.ZodType<Config>,
    capabilities: () => ({
      kind: 'file',
      fields: 'any',
      defaultFields: [],
      supportsRemovals: false,
      maxBatchSize: 50_000_000,
    }),
    async test(ctx) {
      if (ctx.config.pgpPublicKey !== undefined) await readEncryptionKey(ctx.config.pgpPublicKey);
      await withTransport(spec.openTransport, ctx, (transport) => transport.check());
    },
    async deliver(ctx, batch) {
      if (batch.operation === 'remove') {
        throw new DeliveryFailure(
          'refused',
          `${spec.label} destinations receive files: they cannot remove people`,
        );
      }
      const dir = await mkdtemp(join(ctx.tempDir, `${spec.id}-`));
      try {
        const encoded = await encodeBatch(batch, ctx.config, dir, { signal: ctx.signal }).catch(
          (err: unknown) => {
            // A bad template or key will not get better by retrying: straight to the dead letters.
            if (err instanceof UserError) throw new DeliveryFailure('refused', err.message);
            throw err;
          },
        );
        const files = await withTransport(spec.openTransport, ctx, async (transport) => {
          const written: { name: string; rows: number; bytes: number }[] = [];
          for (const file of encoded.files) {
            ctx.signal.throwIfAborted();
            const { bytes } = await transport.put(file.path, file.name);
            written.push({ name: file.name, rows: file.rows, bytes });
          }
          if (ctx.config.doneMarker) {
            const marker = join(dir, 'done-marker');
            await writeFile(marker, '');
            await transport.put(marker, encoded.doneMarkerName);
          }
          return written;
        });
        const accepted = files.reduce((sum, file) => sum + file.rows, 0);
        const marker = ctx.config.doneMarker ? { doneMarker: encoded.doneMarkerName } : {};
        return { accepted, rejected: 0, rejections: [], detail: { files, ...marker } };
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  });
}
