export { type SftpTransportConfig, SftpTransportSchema } from './sftp-config-schema.js';
export { hostKeyFingerprintOf } from './sftp-connection.js';
export { sftpConnector } from './sftp-connector.js';
