import { DeliveryFailure } from '../../connector.js';
import { sendHttp } from '../../http-delivery.js';
import type { GoogleAdsConfig } from './google-ads-config.js';

/** Trades the refresh token for an access token (OAuth 2.0 refresh_token grant). */
export async function googleAccessToken(config: GoogleAdsConfig, signal: AbortSignal): Promise<string> {
  const body = new URLSearchParams({
    grant_type: 'refresh_token',
    client_id: config.clientId,
    client_secret: config.clientSecret,
    refresh_token: config.refreshToken,
  });
  let answer: { access_token?: unknown };
  try {
    const response = await sendHttp(config.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
      signal,
    });
    answer = (await response.json()) as { access_token?: unknown };
  } catch (err) {
    if (!(err instanceof DeliveryFailure)) throw err;
    throw new DeliveryFailure(
      err.disposition,
      `Google did not accept the OAuth client or refresh token: ${err.message}`,
      err.details,
    );
  }
  if (typeof answer.access_token !== 'string') {
    throw new DeliveryFailure('retry', 'Google answered the token request without an access_token');
  }
  return answer.access_token;
}
