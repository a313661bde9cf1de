import { metaConnector } from '../../delivery/destinations/meta/index.js';
import type { ConformanceTarget } from '../conformance.js';
import { audiencePeople, emailHashOf, UNUSABLE_PERSON } from '../vendors/audience-people.js';
import { startMetaGraphServer } from '../vendors/meta-graph-server.js';
import { vendorReadBack } from '../vendors/vendor-server.js';

const ACCESS_TOKEN = 'EAAtestSystemUserToken0123456789';
const AUDIENCE_ID = '23850000000000001';
const API_VERSION = 'v21.0';

/** Meta Custom Audiences against the local Graph API stand-in; people are kept under their email hash. */
export const metaTarget: ConformanceTarget = {
  connector: metaConnector,
  secrets: ['accessToken'],
  async start() {
    const server = await startMetaGraphServer({
      accessToken: ACCESS_TOKEN,
      audienceId: AUDIENCE_ID,
      apiVersion: API_VERSION,
    });
    const config = {
      baseUrl: server.url,
      apiVersion: API_VERSION,
      audienceId: AUDIENCE_ID,
      accessToken: ACCESS_TOKEN,
      defaultCountry: 'US',
    };
    return {
      config,
      badConfig: { ...config, accessToken: 'EAAexpiredToken9876543210' },
      rows: audiencePeople,
      invalidRow: UNUSABLE_PERSON,
      keyOf: emailHashOf,
      ...vendorReadBack(server),
    };
  },
};
