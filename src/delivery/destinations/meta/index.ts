export { type MetaConfig, MetaConfigSchema } from './meta-config.js';
export { META_MAX_ROWS, metaConnector } from './meta-connector.js';
