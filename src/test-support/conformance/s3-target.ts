import { randomUUID } from 'node:crypto';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { s3Connector } from '../../delivery/destinations/s3/index.js';
import {
  CONFORMANCE_FILE_TEMPLATE,
  type ConformanceTarget,
  csvReadBack,
  isCsvDataFile,
} from '../conformance.js';
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
      filenameTemplate: CONFORMANCE_FILE_TEMPLATE,
    });
    return {
      config,
      badConfig: { ...(config as Record<string, unknown>), secretAccessKey: 'not-the-secret-access-key' },
      ...csvReadBack(async () => {
        const client = server.client();
        try {
          const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'exports/' }));
          const keys = (listed.Contents ?? [])
            .map((o) => o.Key ?? '')
            .filter((key) => isCsvDataFile(key.slice('exports/'.length)));
          return Promise.all(
            keys.map(async (Key) =>
              (await client.send(new GetObjectCommand({ Bucket: bucket, Key }))).Body!.transformToString(),
            ),
          );
        } finally {
          client.destroy();
        }
      }),
      close: () => server.close(),
    };
  },
};
