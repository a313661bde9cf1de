import type { ConnectorContext } from '../connector.js';

/**
 * Where finished files go: a folder, an S3 bucket, an SFTP server. The shared file connector
 * encodes the rows into local files; a transport only moves them, so that a reader never sees half
 * a file (write under a temporary name, then rename; an S3 object appears only once complete).
 */
export interface FileTransport {
  /** Checks that the place exists and is writable (writes and removes a small probe file). */
  check(): Promise<void>;
  /** Puts the local file at `remoteName` (relative to the configured folder or prefix), replacing any file there. */
  put(localPath: string, remoteName: string): Promise<{ location: string; bytes: number }>;
  close(): Promise<void>;
}

/** Opens a transport for one destination's config (the config type is the connector's). */
export type OpenTransport<C> = (ctx: ConnectorContext<C>) => Promise<FileTransport>;

/** Opens a transport, hands it to `use`, and closes it however `use` ended. */
export async function withTransport<C, T>(
  open: OpenTransport<C>,
  ctx: ConnectorContext<C>,
  use: (transport: FileTransport) => Promise<T>,
): Promise<T> {
  const transport = await open(ctx);
  try {
    return await use(transport);
  } finally {
    // Every put has finished or failed by now: a failing close must not hide that outcome.
    await transport.close().catch(() => {});
  }
}
