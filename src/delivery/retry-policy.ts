import type { RetryPolicy } from '../core/index.js';

/**
 * How long to wait before attempt `attempt + 1` after `attempt` failed: exponential from
 * `initialDelayMs`, capped at `maxDelayMs`, with "equal jitter" (half fixed, half random) so that
 * many deliveries failing together do not come back together. A `Retry-After` from the
 * destination wins: it said when it can take more.
 */
export function retryDelay(
  policy: RetryPolicy,
  attempt: number,
  retryAfterMs: number | undefined,
  random: () => number = Math.random,
): number {
  if (retryAfterMs !== undefined) return retryAfterMs;
  const exponential = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exponential / 2 + (random() * exponential) / 2);
}
