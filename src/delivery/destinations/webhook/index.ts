export { type WebhookConfig, WebhookConfigSchema } from './webhook-config.js';
export { webhookConnector } from './webhook-connector.js';
export type { WebhookAudienceMessage, WebhookTestMessage } from './webhook-message.js';
export { signWebhook, webhookKey } from './webhook-signature.js';
