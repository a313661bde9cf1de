import { createHash } from 'node:crypto';
import type { SubAudience } from '../core/index.js';

/** A profile's place in [0, 1) for a campaign: the same every run, whatever else changes. */
export function assignmentPoint(campaignId: string, profileId: string): number {
  const digest = createHash('sha256').update(campaignId).update('\u0000').update(profileId).digest();
  // 48 bits are exact in a double and ample for percentages to a hundredth.
  return digest.readUIntBE(0, 6) / 2 ** 48;
}

/**
 * Where a point falls: a treatment group's index, or `control`. The control group takes the
 * bottom of the range and the treatments follow in order, so editing the treatments' split never
 * moves anyone into or out of control.
 */
export function groupOf(sub: SubAudience, point: number): number | 'control' {
  let upTo = (sub.control?.percent ?? 0) / 100;
  if (point < upTo) return 'control';
  for (const [i, t] of sub.treatments.entries()) {
    upTo += t.percent / 100;
    if (point < upTo) return i;
  }
  // Percentages that sum to 100 only up to rounding leave a sliver: it goes to the last group.
  return sub.treatments.length - 1;
}
