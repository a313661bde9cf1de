export { FolderTransportSchema, folderConnector } from './folder-destination.js';
export { folderTransport } from './folder-transport.js';
