const MIN_TIME = Date.parse('0001-01-01T00:00:00.000Z');
const MAX_TIME = Date.parse('9999-12-31T23:59:59.999Z');

/**
 * Whether a time (epoch ms) is in the years 0001-9999, which both engines store. Beyond them a
 * time fails the whole write it is in (PostgreSQL refuses a year past 9999), not just its row.
 */
export function isStorableTime(ms: number): boolean {
  return ms >= MIN_TIME && ms <= MAX_TIME;
}
