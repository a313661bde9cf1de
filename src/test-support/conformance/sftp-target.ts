import { parse } from 'csv-parse/sync';
import { sftpConnector } from '../../delivery/destinations/sftp/index.js';
import type { DeliveryRecord } from '../../delivery/index.js';
import type { ConformanceTarget } from '../conformance.js';
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
      filenameTemplate: '{{activation_name}}_{{group_name}}_{{run_id}}_{{batch}}',
    });
    const rows = async (): Promise<Record<string, string>[]> => {
      // Data files only: not the .DONE markers, nor hidden temporary files.
      const names = (await server.listRemote(server.root)).filter(
        (name) => name.endsWith('.csv') && !name.startsWith('.'),
      );
      const found: Record<string, string>[] = [];
      // One sftp client at a time: sshd drops connections past 10 unauthenticated ones at once.
      for (const name of names) {
        found.push(
          ...(parse(await server.readRemote(`${server.root}/${name}`), { columns: true }) as Record<
            string,
            string
          >[]),
        );
      }
      return found;
    };
    return {
      config,
      badConfig: { ...(config as Record<string, unknown>), password: 'not-the-password' },
      rows: people,
      keyOf: (row) => String(row.profile_id),
      present: async () => [...new Set((await rows()).map((row) => row.profile_id ?? ''))].sort(),
      received: async () => (await rows()).length,
      close: () => server.close(),
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
