import { normalizeEmail } from '../../delivery/ad-identifiers.js';
import { mailchimpConnector } from '../../delivery/destinations/mailchimp/index.js';
import type { DeliveryRecord } from '../../delivery/index.js';
import type { ConformanceTarget } from '../conformance.js';
import { audiencePeople, UNUSABLE_PERSON } from '../vendors/audience-people.js';
import { startMailchimpServer } from '../vendors/mailchimp-server.js';
import { vendorReadBack } from '../vendors/vendor-server.js';

const API_KEY = '0123456789abcdef0123456789abcdef-us21';
const LIST_ID = 'a1b2c3d4e5';

/** Mailchimp against the local Marketing API stand-in; people are kept under their normalized email. */
export const mailchimpTarget: ConformanceTarget = {
  connector: mailchimpConnector,
  secrets: ['apiKey'],
  async start() {
    const server = await startMailchimpServer({ apiKey: API_KEY, listId: LIST_ID });
    const config = { apiKey: API_KEY, listId: LIST_ID, baseUrl: server.url };
    return {
      config,
      badConfig: { ...config, apiKey: 'ffffffffffffffffffffffffffffffff-us21' },
      rows: (n: number, first?: number) =>
        audiencePeople(n, first).map(
          ({ email, first_name, last_name }) => ({ email, first_name, last_name }) as DeliveryRecord,
        ),
      invalidRow: { email: UNUSABLE_PERSON.email ?? null, first_name: 'Nobody', last_name: null },
      keyOf: (row) => normalizeEmail(String(row.email ?? '')) ?? '',
      ...vendorReadBack(server),
    };
  },
};
