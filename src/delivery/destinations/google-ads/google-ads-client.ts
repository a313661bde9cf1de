import { DeliveryFailure } from '../../connector.js';
import { sendHttp } from '../../http-delivery.js';
import type { GoogleAdsConfig } from './google-ads-config.js';
import { googleAccessToken } from './google-oauth.js';

/** A Google Ads REST client for one delivery: signed in once, every call with the documented headers. */
export interface GoogleAdsClient {
  /** POSTs JSON to `{base}/{version}/{resource}` and answers the parsed body. */
  post(resource: string, body: unknown): Promise<unknown>;
  /** Runs a GAQL query against the configured customer. */
  search(query: string): Promise<Record<string, unknown>[]>;
}

/** Gets an access token and answers a client that sends `Authorization`, `developer-token` and `login-customer-id`. */
export async function openGoogleAds(config: GoogleAdsConfig, signal: AbortSignal): Promise<GoogleAdsClient> {
  const accessToken = await googleAccessToken(config, signal);
  const headers: Record<string, string> = {
    authorization: `Bearer ${accessToken}`,
    'developer-token': config.developerToken,
    'content-type': 'application/json',
  };
  if (config.loginCustomerId !== undefined) headers['login-customer-id'] = config.loginCustomerId;
  const base = `${config.baseUrl.replace(/\/+$/, '')}/${config.apiVersion}`;
  const post = async (resource: string, body: unknown) => {
    const response = await sendHttp(`${base}/${resource}`, {
      method: 'POST',
      headers,
      body: JSON.stringify(body),
      signal,
    });
    return (await response.json()) as unknown;
  };
  return {
    post,
    async search(query) {
      const answer = (await post(`customers/${config.customerId}/googleAds:search`, { query })) as {
        results?: unknown;
      };
      return Array.isArray(answer.results) ? (answer.results as Record<string, unknown>[]) : [];
    },
  };
}

/** Rewords a failure with what Sluice was doing, keeping its disposition. */
export function explain(err: unknown, what: string): unknown {
  if (!(err instanceof DeliveryFailure)) return err;
  return new DeliveryFailure(err.disposition, `${what}: ${err.message}`, err.details);
}
