import { fileConnector } from '../../files/file-connector.js';
import { SftpTransportSchema } from './sftp-config-schema.js';
import { openSftpTransport } from './sftp-transport.js';

/** Files to a folder on an SFTP server, logged in with a password or a private key. */
export const sftpConnector = fileConnector({
  id: 'sftp',
  label: 'SFTP server',
  transportSchema: SftpTransportSchema,
  openTransport: openSftpTransport,
});
