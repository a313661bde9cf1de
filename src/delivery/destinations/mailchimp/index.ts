export { datacenterOf, type MailchimpConfig, MailchimpConfigSchema } from './mailchimp-config.js';
export { MAILCHIMP_MAX_MEMBERS, mailchimpConnector } from './mailchimp-connector.js';
