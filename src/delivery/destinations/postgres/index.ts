export { type PostgresConfig, PostgresConfigSchema } from './postgres-config.js';
export { postgresConnector } from './postgres-connector.js';
