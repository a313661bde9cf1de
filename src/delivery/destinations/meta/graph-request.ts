import { DeliveryFailure } from '../../connector.js';
import { sendHttp } from '../../http-delivery.js';

// Graph error codes Meta documents as temporary (downtime, throttling, audience update limits):
// Meta answers them with a 4xx status that alone would send the batch to the dead letters.
const TRANSIENT_CODES = new Set([1, 2, 4, 17, 32, 341, 613, 80003]);

/** `sendHttp` for the Graph API: a 4xx carrying a temporary error code is retried, not refused. */
export async function graphRequest(
  url: string,
  init: RequestInit & { timeoutMs?: number },
): Promise<unknown> {
  try {
    const response = await sendHttp(url, init);
    return await response.json();
  } catch (err) {
    if (err instanceof DeliveryFailure && err.disposition === 'refused') {
      const code = graphErrorCode(err.message);
      if (code !== undefined && TRANSIENT_CODES.has(code)) {
        throw new DeliveryFailure('retry', `Meta is throttling or briefly down: ${err.message}`, err.details);
      }
    }
    throw err;
  }
}

/** The `error.code` of a Graph error body quoted at the end of a `sendHttp` failure message. */
function graphErrorCode(message: string): number | undefined {
  const start = message.indexOf('{');
  if (start < 0) return undefined;
  try {
    const body = JSON.parse(message.slice(start)) as { error?: { code?: unknown } };
    return typeof body.error?.code === 'number' ? body.error.code : undefined;
  } catch {
    return undefined;
  }
}
