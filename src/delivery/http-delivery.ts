import { DeliveryFailure } from './connector.js';

/** Statuses worth another attempt: timeouts, conflicts of the moment, throttling, server faults. */
const RETRYABLE_STATUSES = new Set([408, 409, 425, 429]);

/**
 * `fetch` for connectors: answers a 2xx response, and turns anything else into a `DeliveryFailure`
 * that the outbox knows how to treat (5xx, 408, 429 and network errors are retried, honouring
 * `Retry-After`; 410 disables the destination; other 4xx are refused with the destination's words).
 */
export async function sendHttp(url: string, init: RequestInit & { timeoutMs?: number }): Promise<Response> {
  const { timeoutMs = 30_000, signal, ...rest } = init;
  const timeout = AbortSignal.timeout(timeoutMs);
  let response: Response;
  try {
    response = await fetch(url, { ...rest, signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
  } catch (err) {
    const reason = timeout.aborted ? `no answer within ${timeoutMs} ms` : describeNetworkError(err);
    throw new DeliveryFailure('retry', `${new URL(url).host}: ${reason}`);
  }
  if (response.ok) return response;
  const body = (await response.text().catch(() => '')).slice(0, 500);
  const what = `${new URL(url).host} answered ${response.status}${body ? `: ${body}` : ''}`;
  const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
  const details = { status: response.status, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
  if (response.status === 410) throw new DeliveryFailure('gone', what, details);
  if (response.status >= 500 || RETRYABLE_STATUSES.has(response.status)) {
    throw new DeliveryFailure('retry', what, details);
  }
  throw new DeliveryFailure('refused', what, details);
}

/** `Retry-After` as milliseconds from now: delay-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function describeNetworkError(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
}
