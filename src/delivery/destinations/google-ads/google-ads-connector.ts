import { AD_PERSON_FIELDS, readAdBatch } from '../../ad-identifiers.js';
import {
  type DeliveryBatch,
  DeliveryFailure,
  type DeliveryResult,
  defineConnector,
} from '../../connector.js';
import { jobExternalId, operationChunks, partialFailureRejections } from './customer-match-operations.js';
import { explain, type GoogleAdsClient, openGoogleAds } from './google-ads-client.js';
import { type GoogleAdsConfig, GoogleAdsConfigSchema } from './google-ads-config.js';

/**
 * Google Ads Customer Match through OfflineUserDataJobService: per batch, one job
 * (`offlineUserDataJobs:create` with the list and consent), its operations in requests of at most
 * 10,000 identifiers (`:addOperations`, partial failure on), then `:run`.
 */
export const googleAdsConnector = defineConnector({
  id: 'google-ads-customer-match',
  label: 'Google Ads Customer Match',
  configSchema: GoogleAdsConfigSchema,
  capabilities: () => ({
    kind: 'records',
    fields: AD_PERSON_FIELDS,
    defaultFields: ['email', 'phone', 'first_name', 'last_name', 'zip', 'country'],
    supportsRemovals: true,
    maxBatchSize: 10_000,
  }),
  async test({ config, signal }) {
    try {
      const ads = await openGoogleAds(config, signal);
      const lists = await ads.search(
        `SELECT user_list.id, user_list.name FROM user_list WHERE user_list.resource_name = '${userListName(config)}'`,
      );
      if (lists.length === 0) {
        throw new DeliveryFailure(
          'refused',
          `Google Ads account ${config.customerId} has no user list ${config.userListId}`,
        );
      }
    } catch (err) {
      throw explain(
        err,
        `Google Ads did not let Sluice read user list ${config.userListId} (check the OAuth client, refresh token and developer token)`,
      );
    }
  },
  async deliver({ config, signal }, batch: DeliveryBatch): Promise<DeliveryResult> {
    const { people, rejections } = await readAdBatch(batch, config.defaultCountry);
    const { chunks, unusable } = operationChunks(people, batch.operation);
    for (const row of unusable)
      rejections.push({
        row,
        reason: 'no identifier Google Ads takes (an unhashed country and zip are needed for an address)',
      });
    const local = rejections.length;
    if (chunks.length === 0) return { accepted: 0, rejected: local, rejections };
    const sent = chunks.reduce((n, chunk) => n + chunk.length, 0);

    const ads = await openGoogleAds(config, signal);
    const externalId = jobExternalId(batch);
    const earlier = await findJob(ads, externalId);
    // An earlier attempt already ran this batch's job: Google has it, sending it again would count twice.
    if (earlier?.status === 'RUNNING' || earlier?.status === 'SUCCESS') {
      return {
        accepted: sent,
        rejected: local,
        rejections,
        detail: { job: earlier.resourceName, externalId, alreadyRun: true },
      };
    }
    const job =
      earlier?.status === 'PENDING' ? earlier.resourceName : await createJob(ads, config, externalId);
    for (const chunk of chunks) {
      const answer = await ads.post(`${job}:addOperations`, {
        enablePartialFailure: true,
        operations: chunk.map((o) => o.operation),
      });
      rejections.push(...partialFailureRejections(answer, chunk));
    }
    const run = (await ads.post(`${job}:run`, {})) as { name?: string };
    const refusedByGoogle = rejections.length - local;
    return {
      accepted: sent - refusedByGoogle,
      rejected: local + refusedByGoogle,
      rejections,
      detail: { job, externalId, operation: run.name, requests: chunks.length },
    };
  },
});

function userListName(config: GoogleAdsConfig): string {
  return `customers/${config.customerId}/userLists/${config.userListId}`;
}

async function findJob(ads: GoogleAdsClient, externalId: string) {
  const results = await ads.search(
    `SELECT offline_user_data_job.resource_name, offline_user_data_job.status FROM offline_user_data_job WHERE offline_user_data_job.external_id = ${externalId}`,
  );
  const jobs = results.map(
    (r) => r.offlineUserDataJob as { resourceName?: string; status?: string } | undefined,
  );
  const usable = jobs.filter(
    (j): j is { resourceName: string; status: string } =>
      typeof j?.resourceName === 'string' && typeof j.status === 'string',
  );
  // A FAILED job is left alone: the batch goes again in a new job.
  return (
    usable.find((j) => j.status === 'RUNNING' || j.status === 'SUCCESS') ??
    usable.find((j) => j.status === 'PENDING')
  );
}

async function createJob(ads: GoogleAdsClient, config: GoogleAdsConfig, externalId: string): Promise<string> {
  const answer = (await ads.post(`customers/${config.customerId}/offlineUserDataJobs:create`, {
    job: {
      type: 'CUSTOMER_MATCH_USER_LIST',
      externalId,
      customerMatchUserListMetadata: {
        userList: userListName(config),
        consent: { adUserData: config.adUserData, adPersonalization: config.adPersonalization },
      },
    },
  })) as { resourceName?: unknown };
  if (typeof answer.resourceName !== 'string') {
    throw new DeliveryFailure('retry', 'Google Ads created a job without answering its resource name');
  }
  return answer.resourceName;
}
