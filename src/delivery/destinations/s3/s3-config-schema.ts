import { z } from 'zod';
import { secret } from '../../secret-fields.js';

/** Where an S3 destination writes: a bucket (and folder) on Amazon S3 or any S3-compatible store. */
export const S3TransportSchema = z.object({
  bucket: z
    .string()
    .regex(
      /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
      'must be an S3 bucket name: 3-63 lowercase letters, digits, dots, hyphens',
    )
    .describe('Bucket name'),
  prefix: z
    .string()
    .regex(/^[^/]/, 'must not start with a slash (write exports/daily, not /exports/daily)')
    .optional()
    .describe('Folder inside the bucket, e.g. exports/daily'),
  region: z.string().min(1).default('us-east-1').describe('AWS region of the bucket'),
  endpoint: z
    .url({ protocol: /^https?$/ })
    .optional()
    .describe('URL of an S3-compatible store (MinIO, Ceph, R2, ...); leave empty for Amazon S3'),
  forcePathStyle: z
    .boolean()
    .default(false)
    .describe(
      'Address the bucket in the path (endpoint/bucket/key) instead of the host name; most S3-compatible stores need it',
    ),
  accessKeyId: z.string().min(1).describe('Access key id'),
  secretAccessKey: secret('Secret access key'),
  sessionToken: secret('Session token, for temporary credentials').optional(),
});

export type S3TransportConfig = z.output<typeof S3TransportSchema>;

/** The object key of a file: `remoteName` under the configured prefix (`exports/daily/x.csv`). */
export function objectKey(prefix: string | undefined, remoteName: string): string {
  const folder = prefix?.replace(/\/+$/, '') ?? '';
  return folder ? `${folder}/${remoteName}` : remoteName;
}
