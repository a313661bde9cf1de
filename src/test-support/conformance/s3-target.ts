import { randomUUID } from 'node:crypto';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { parse } from 'csv-parse/sync';
import { s3Connector } from '../../delivery/destinations/s3/index.js';
import type { DeliveryRecord } from '../../delivery/index.js';
import type { ConformanceTarget } from '../conformance.js';
import { startS3Server } from '../s3-server.js';

/**
 * The S3 connector writing CSV into a fresh bucket on s3rver, read back with a separate AWS SDK
 * client. File names carry the run and batch, so distinct batches are distinct objects and a
 * resend replaces its own.
 */
export const s3Target: ConformanceTarget = {
  connector: s3Connector,
  secrets: ['secretAccessKey', 'sessionToken'],
  async start() {
    const server = await startS3Server();
    const bucket = `conformance-${randomUUID().slice(0, 8)}`;
    await server.bucket(bucket);
    const config = s3Connector.configSchema.parse({
      bucket,
      prefix: 'exports',
      endpoint: server.endpoint,
      forcePathStyle: true,
      accessKeyId: server.accessKeyId,
      secretAccessKey: server.secretAccessKey,
      format: 'csv',
      filenameTemplate: '{{activation_name}}_{{group_name}}_{{run_id}}_{{batch}}',
    });
    const rows = async (): Promise<Record<string, string>[]> => {
      const client = server.client();
      try {
        const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'exports/' }));
        // Data files only: not the .DONE markers, nor a check's probe objects.
        const keys = (listed.Contents ?? [])
          .map((o) => o.Key ?? '')
          .filter((key) => key.endsWith('.csv') && !key.split('/').pop()?.startsWith('.'));
        const files = await Promise.all(
          keys.map(async (Key) => {
            const answer = await client.send(new GetObjectCommand({ Bucket: bucket, Key }));
            return answer.Body!.transformToString();
          }),
        );
        return files.flatMap((text) => parse(text, { columns: true }) as Record<string, string>[]);
      } finally {
        client.destroy();
      }
    };
    return {
      config,
      badConfig: { ...(config as Record<string, unknown>), secretAccessKey: 'not-the-secret-access-key' },
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
