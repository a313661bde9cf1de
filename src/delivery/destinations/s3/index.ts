export { type S3TransportConfig, S3TransportSchema } from './s3-config-schema.js';
export { s3Connector } from './s3-connector.js';
