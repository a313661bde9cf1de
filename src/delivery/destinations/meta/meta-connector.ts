import { AD_PERSON_FIELDS, readAdBatch } from '../../ad-identifiers.js';
import {
  type DeliveryBatch,
  DeliveryFailure,
  type DeliveryResult,
  defineConnector,
} from '../../connector.js';
import { graphRequest } from './graph-request.js';
import { type MetaConfig, MetaConfigSchema } from './meta-config.js';
import { metaPayload, metaSession } from './meta-payload.js';

/** Meta takes at most 10,000 rows in one request to `/{audience_id}/users`. */
export const META_MAX_ROWS = 10_000;

interface MetaReceipt {
  num_received?: number;
  num_invalid_entries?: number;
  invalid_entry_samples?: Record<string, string>;
}

/**
 * Meta Custom Audiences from customer lists: adds `POST` and removes `DELETE`
 * `/{version}/{audience_id}/users` with hashed multi-key rows in an upload session.
 */
export const metaConnector = defineConnector({
  id: 'meta-custom-audiences',
  label: 'Meta Custom Audiences',
  configSchema: MetaConfigSchema,
  capabilities: () => ({
    kind: 'records',
    fields: AD_PERSON_FIELDS,
    defaultFields: ['email', 'phone', 'first_name', 'last_name', 'zip', 'country'],
    supportsRemovals: true,
    maxBatchSize: META_MAX_ROWS,
  }),
  async test({ config, signal }) {
    const url = new URL(`${audienceUrl(config)}`);
    url.searchParams.set('fields', 'id,name,operation_status');
    url.searchParams.set('access_token', config.accessToken);
    try {
      await graphRequest(url.toString(), { method: 'GET', signal });
    } catch (err) {
      if (!(err instanceof DeliveryFailure)) throw err;
      throw new DeliveryFailure(
        err.disposition,
        `Meta did not let Sluice read Custom Audience ${config.audienceId} (check the access token and the audience id): ${err.message}`,
        err.details,
      );
    }
  },
  async deliver({ config, signal }, batch: DeliveryBatch): Promise<DeliveryResult> {
    if (batch.rowCount > META_MAX_ROWS) {
      throw new DeliveryFailure(
        'refused',
        `Meta takes at most ${META_MAX_ROWS} rows per request; this batch has ${batch.rowCount}`,
      );
    }
    const { people, rejections } = await readAdBatch(batch, config.defaultCountry);
    if (people.length === 0) return { accepted: 0, rejected: rejections.length, rejections };
    const payload = metaPayload(people.map((p) => p.person));
    const session = metaSession(batch, batch.rowCount);
    const body = new URLSearchParams({
      payload: JSON.stringify(payload),
      session: JSON.stringify(session),
      access_token: config.accessToken,
    });
    const receipt = (await graphRequest(`${audienceUrl(config)}/users`, {
      method: batch.operation === 'add' ? 'POST' : 'DELETE',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
      signal,
    })) as MetaReceipt;
    const invalid = receipt.num_invalid_entries ?? 0;
    const received = receipt.num_received ?? people.length;
    if (invalid > 0) {
      const reasons = [...new Set(Object.values(receipt.invalid_entry_samples ?? {}))];
      rejections.push({
        reason: `Meta counted entries invalid${reasons.length ? `: ${reasons.join('; ')}` : ''}`,
        count: invalid,
      });
    }
    return {
      accepted: Math.max(0, received - invalid),
      rejected: batch.rowCount - people.length + invalid,
      rejections,
      detail: {
        audienceId: config.audienceId,
        sessionId: String(session.session_id),
        batchSeq: session.batch_seq,
        schema: payload.schema,
      },
    };
  },
});

function audienceUrl(config: MetaConfig): string {
  return `${config.baseUrl.replace(/\/+$/, '')}/${config.apiVersion}/${config.audienceId}`;
}
