import { googleAdsConnector } from '../../delivery/destinations/google-ads/index.js';
import type { ConformanceTarget } from '../conformance.js';
import { audiencePeople, emailHashOf, UNUSABLE_PERSON } from '../vendors/audience-people.js';
import { type GoogleAdsServerOptions, startGoogleAdsServer } from '../vendors/google-ads-server.js';
import { vendorReadBack } from '../vendors/vendor-server.js';

/** Credentials the Google Ads stand-in accepts. */
export const GOOGLE_ADS_TEST_ACCOUNT: GoogleAdsServerOptions = {
  apiVersion: 'v21',
  customerId: '1234567890',
  userListId: '555000111',
  developerToken: 'devtoken-ABCDEF123456',
  clientId: 'sluice-test.apps.googleusercontent.com',
  clientSecret: 'GOCSPX-client-secret',
  refreshToken: '1//refresh-token-value',
};

/** Google Ads Customer Match against the local stand-in; people are kept under their email hash. */
export const googleAdsTarget: ConformanceTarget = {
  connector: googleAdsConnector,
  secrets: ['developerToken', 'clientSecret', 'refreshToken'],
  async start() {
    const server = await startGoogleAdsServer(GOOGLE_ADS_TEST_ACCOUNT);
    const { apiVersion, customerId, userListId, developerToken, clientId, clientSecret, refreshToken } =
      GOOGLE_ADS_TEST_ACCOUNT;
    const config = {
      baseUrl: server.url,
      tokenUrl: server.tokenUrl,
      apiVersion,
      customerId,
      userListId,
      developerToken,
      clientId,
      clientSecret,
      refreshToken,
      adUserData: 'GRANTED',
      adPersonalization: 'GRANTED',
      defaultCountry: 'US',
    };
    return {
      config,
      badConfig: { ...config, refreshToken: '1//revoked-refresh-token' },
      rows: audiencePeople,
      invalidRow: UNUSABLE_PERSON,
      keyOf: emailHashOf,
      ...vendorReadBack(server),
    };
  },
};
