import { sftpConnector } from '../../delivery/destinations/sftp/index.js';
import {
  CONFORMANCE_FILE_TEMPLATE,
  type ConformanceTarget,
  csvReadBack,
  isCsvDataFile,
} from '../conformance.js';
import { startSftpServer } from '../sftp-server.js';

/**
 * The SFTP connector writing CSV to a real OpenSSH sshd (password login), read back with
 * OpenSSH's `sftp` client. File names carry the run and batch, so distinct batches are distinct
 * files and a resend replaces its own.
 */
export const sftpTarget: ConformanceTarget = {
  connector: sftpConnector,
  secrets: ['password', 'privateKey', 'passphrase'],
  async start() {
    const server = await startSftpServer();
    const config = sftpConnector.configSchema.parse({
      host: server.host,
      port: server.port,
      username: server.username,
      password: server.password,
      hostKeyFingerprint: server.hostKeyFingerprint,
      path: server.root,
      format: 'csv',
      filenameTemplate: CONFORMANCE_FILE_TEMPLATE,
    });
    return {
      config,
      badConfig: { ...(config as Record<string, unknown>), password: 'not-the-password' },
      ...csvReadBack(async () => {
        const texts: string[] = [];
        // One sftp client at a time: sshd drops connections past 10 unauthenticated ones at once.
        for (const name of (await server.listRemote(server.root)).filter(isCsvDataFile)) {
          texts.push((await server.readRemote(`${server.root}/${name}`)).toString('utf8'));
        }
        return texts;
      }),
      close: () => server.close(),
    };
  },
};
