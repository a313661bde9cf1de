import { isAbsolute } from 'node:path';
import { z } from 'zod';
import { fileConnector } from '../../files/file-connector.js';
import { folderTransport } from './folder-transport.js';

/** Where a folder destination writes: the file options are added by `fileConnector`. */
export const FolderTransportSchema = z.object({
  path: z
    .string()
    .min(1)
    .refine(isAbsolute, 'must be an absolute path')
    .describe('Absolute path of an existing directory the files are written into'),
});

/** Writes each batch as files into a local (or mounted) directory, replacing files atomically. */
export const folderConnector = fileConnector({
  id: 'folder',
  label: 'Local folder',
  transportSchema: FolderTransportSchema,
  openTransport: async (ctx) => folderTransport(ctx.config.path),
});
