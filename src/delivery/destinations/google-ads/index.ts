export { IDENTIFIERS_PER_REQUEST, userIdentifiersOf } from './customer-match-operations.js';
export { type GoogleAdsConfig, GoogleAdsConfigSchema } from './google-ads-config.js';
export { googleAdsConnector } from './google-ads-connector.js';
