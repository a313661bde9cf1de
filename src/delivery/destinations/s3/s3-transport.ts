import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { DeleteObjectCommand, HeadBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { FileTransport, OpenTransport } from '../../files/file-transport.js';
import { objectKey, type S3TransportConfig } from './s3-config-schema.js';
import { checkError, deliveryError, statusOf } from './s3-errors.js';

/** Parts of 8 MiB, two in flight: at most 16 MiB buffered, and two sockets keep a 2-core host busy. */
const PART_SIZE = 8 * 1024 * 1024;
const QUEUE_SIZE = 2;
/** S3 allows at most 10,000 parts per upload; bigger files get bigger parts. */
const MAX_PARTS = 10_000;

/** Opens a transport that uploads files as objects under `prefix` in `bucket`. */
export const openS3Transport: OpenTransport<S3TransportConfig> = async ({ config, signal }) => {
  const client = s3ClientFor(config);
  return {
    check: () => checkBucket(client, config, signal),
    put: (localPath, remoteName) => uploadFile(client, config, signal, localPath, remoteName),
    close: async () => client.destroy(),
  } satisfies FileTransport;
};

/** An SDK client for the config; the secret goes only into the request signer. */
export function s3ClientFor(config: S3TransportConfig): S3Client {
  return new S3Client({
    region: config.region,
    forcePathStyle: config.forcePathStyle,
    credentials: {
      accessKeyId: config.accessKeyId,
      secretAccessKey: config.secretAccessKey,
      ...(config.sessionToken === undefined ? {} : { sessionToken: config.sessionToken }),
    },
    ...(config.endpoint === undefined
      ? {}
      : {
          endpoint: config.endpoint,
          // The SDK's default CRC checksums (2025) are refused by several S3-compatible stores;
          // checksums only where the API requires them keeps every store working.
          requestChecksumCalculation: 'WHEN_REQUIRED' as const,
          responseChecksumValidation: 'WHEN_REQUIRED' as const,
        }),
    requestHandler: { connectionTimeout: 10_000, requestTimeout: 120_000 },
  });
}

/** HeadBucket finds a missing bucket; a probe object written and removed proves the key may write. */
async function checkBucket(client: S3Client, config: S3TransportConfig, signal: AbortSignal): Promise<void> {
  try {
    await client.send(new HeadBucketCommand({ Bucket: config.bucket }), { abortSignal: signal });
  } catch (err) {
    // HeadBucket needs s3:ListBucket, which a write-only export key may lack, and its 403 has no
    // body to say why: the probe write below tells a wrong secret from a missing permission.
    if (statusOf(err) !== 403) throw checkError(err, config);
  }
  const probe = { Bucket: config.bucket, Key: objectKey(config.prefix, `.sluice-check-${randomUUID()}`) };
  try {
    await client.send(new PutObjectCommand({ ...probe, Body: 'sluice connection check\n' }), {
      abortSignal: signal,
    });
    await client.send(new DeleteObjectCommand(probe), { abortSignal: signal });
  } catch (err) {
    throw checkError(err, config);
  }
}

/**
 * Streams the file up, in parts when it is large. No temporary name is needed: S3 shows an object
 * only once its upload completes (a multipart upload at CompleteMultipartUpload), and then
 * replaces any object of that key whole.
 */
async function uploadFile(
  client: S3Client,
  config: S3TransportConfig,
  signal: AbortSignal,
  localPath: string,
  remoteName: string,
): Promise<{ location: string; bytes: number }> {
  const { size } = await stat(localPath);
  const key = objectKey(config.prefix, remoteName);
  const abortController = new AbortController();
  const abort = () => abortController.abort(signal.reason);
  // A signal aborted already fires no event.
  if (signal.aborted) abort();
  signal.addEventListener('abort', abort, { once: true });
  const upload = new Upload({
    client,
    params: { Bucket: config.bucket, Key: key, Body: createReadStream(localPath), ContentLength: size },
    partSize: Math.max(PART_SIZE, Math.ceil(size / MAX_PARTS)),
    queueSize: QUEUE_SIZE,
    // A failed multipart upload is aborted, so no orphaned parts are billed.
    leavePartsOnError: false,
    abortController,
  });
  try {
    await upload.done();
  } catch (err) {
    throw deliveryError(err, config);
  } finally {
    signal.removeEventListener('abort', abort);
  }
  return { location: `s3://${config.bucket}/${key}`, bytes: size };
}
