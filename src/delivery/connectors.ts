import type { Connector } from './connector.js';
import { folderConnector } from './destinations/folder/index.js';
import { googleAdsConnector } from './destinations/google-ads/index.js';
import { mailchimpConnector } from './destinations/mailchimp/index.js';
import { metaConnector } from './destinations/meta/index.js';
import { postgresConnector } from './destinations/postgres/index.js';
import { s3Connector } from './destinations/s3/index.js';
import { sftpConnector } from './destinations/sftp/index.js';
import { webhookConnector } from './destinations/webhook/index.js';

/** Every connector this build ships, in the order `GET /api/connectors` lists them. */
export const CONNECTORS: readonly Connector[] = [
  folderConnector,
  s3Connector,
  sftpConnector,
  webhookConnector,
  postgresConnector,
  metaConnector,
  googleAdsConnector,
  mailchimpConnector,
];
