import { fileConnector } from '../../files/file-connector.js';
import { S3TransportSchema } from './s3-config-schema.js';
import { openS3Transport } from './s3-transport.js';

/** Files to a bucket on Amazon S3 or any S3-compatible store (MinIO, Ceph, R2, ...). */
export const s3Connector = fileConnector({
  id: 's3',
  label: 'Amazon S3 or S3-compatible storage',
  transportSchema: S3TransportSchema,
  openTransport: openS3Transport,
});
