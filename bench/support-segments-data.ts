import { SeededRandom, type StoredEvent } from '../src/core/index.js';
import type { Database } from '../src/store/index.js';
import { trackEvent } from '../src/test-support/segments.js';

/**
 * Synthetic shop data for the segments benchmark, made in SQL inside the engine (tens of millions
 * of rows in seconds) and, for live traffic, in JS with the same shapes.
 *
 * Every user `k` has the user id `u<k>` and the anonymous id `a<k>`. A fifth of the users send four
 * fifths of the events; a user's events fall into 40 sessions of half an hour spread over the span,
 * so funnels and abandonments happen as they do on a real site.
 */

/** Event names with their share of traffic in percent (they add up to 100). */
export const EVENT_WEIGHTS: readonly (readonly [string, number])[] = [
  ['Page Viewed', 28],
  ['Product Viewed', 18],
  ['Products Searched', 8],
  ['Product Added', 7],
  ['Email Opened', 6],
  ['Cart Viewed', 5],
  ['App Opened', 5],
  ['Signed In', 4],
  ['Checkout Started', 3],
  ['Order Completed', 2],
  ['Product Removed', 2],
  ['Wishlist Added', 2],
  ['Email Clicked', 2],
  ['Push Opened', 2],
  ['Signed Up', 1],
  ['Review Submitted', 1],
  ['Coupon Applied', 1],
  ['Subscription Started', 1],
  ['Subscription Cancelled', 1],
  ['Support Ticket Opened', 1],
];

export const CATEGORIES = [
  'shoes',
  'apparel',
  'electronics',
  'home',
  'beauty',
  'toys',
  'sports',
  'books',
] as const;
export const COUNTRIES = ['US', 'GB', 'DE', 'FR', 'CA', 'AU', 'NL', 'ES', 'IT', 'BR'] as const;
export const PLANS = ['free', 'free', 'free', 'basic', 'basic', 'pro', 'pro', 'enterprise'] as const;
export const TIERS = ['bronze', 'bronze', 'bronze', 'silver', 'silver', 'gold', 'platinum'] as const;
const PRODUCT_EVENTS = ['Product Viewed', 'Product Added', 'Product Removed', 'Wishlist Added'];
const SESSIONS = 40;
const YEAR_S = 365 * 86_400;

/** 100 slots, each event name repeated by its weight: `slot[hash % 100]` draws an event. */
const EVENT_SLOTS = EVENT_WEIGHTS.flatMap(([name, weight]) => Array<string>(weight).fill(name));

// Salted hashes are `hash(x * 1000003 + salt)`: DuckDB's two-argument `hash(x, salt)` keeps the
// low bits periodic in x, which would tie every draw to the event number (one category per user).
const list = (values: readonly string[]) => `[${values.map((v) => `'${v}'`).join(', ')}]`;
/** `list[h % n]` in SQL (lists are 1-based). */
const pick = (values: readonly string[], h: string) =>
  `${list(values)}[(${h} % ${values.length})::INTEGER + 1]`;

export interface EventGeneration {
  sourceId: string;
  profiles: number;
  events: number;
  /** The seq of the first event (the table's sequence continues after the last). */
  firstSeq: number;
  /** Events fall in the `spanDays` before `now`. */
  spanDays: number;
  now: Date;
}

/** Rows per INSERT: chunks run two at a time, one per core (a `range` scan is not parallel). */
const CHUNK = 2_500_000;

/** JSON object text from SQL expressions: text members quoted, numbers as they print. */
function jsonText(members: Record<string, { text: string } | { number: string }>): string {
  const parts = Object.entries(members).map(([key, v]) =>
    'text' in v ? `'"${key}":"' || ${v.text} || '"'` : `'"${key}":' || ${v.number}`,
  );
  return `'{' || ${parts.join(` || ',' || `)} || '}'`;
}

/**
 * `INSERT INTO events SELECT ... FROM range(...)`: track events with shop-like properties. The
 * properties are written as JSON text (`json_object` costs twice as much).
 */
export async function generateEvents(db: Database, g: EventGeneration): Promise<void> {
  const heavy = Math.max(1, Math.floor(g.profiles / 5));
  const light = Math.max(1, g.profiles - heavy);
  const nowS = Math.floor(g.now.getTime() / 1000);
  const spanS = Math.max(1, g.spanDays * 86_400 - 1800);
  const price = (salt: number, maxCents: number) => ({
    number: `round(1 + (hash(i * 1000003 + ${salt}) % ${maxCents}) / 100.0, 2)`,
  });
  const text = (expr: string) => ({ text: expr });
  const properties = `CASE
         WHEN event = 'Order Completed' THEN ${jsonText({
           order_id: text(`'o' || i`),
           revenue: price(8, 40000),
           currency: text(`'USD'`),
           category: text('category'),
           items: { number: '1 + hash(i * 1000003 + 9) % 5' },
         })}
         WHEN event IN (${PRODUCT_EVENTS.map((e) => `'${e}'`).join(', ')}) THEN ${jsonText({
           product_id: text(`'sku-' || (hash(i * 1000003 + 10) % 5000)`),
           category: text('category'),
           price: price(8, 30000),
         })}
         WHEN event = 'Checkout Started' THEN ${jsonText({ value: price(8, 60000), items: { number: '1 + hash(i * 1000003 + 9) % 6' } })}
         WHEN event = 'Page Viewed' THEN ${jsonText({ path: text(`'/c/' || category || '/' || (hash(i * 1000003 + 10) % 200)`) })}
         WHEN event = 'Products Searched' THEN ${jsonText({ query: text(`category || ' ' || (hash(i * 1000003 + 10) % 50)`) })}
         WHEN event IN ('Email Opened', 'Email Clicked') THEN ${jsonText({ campaign: text(`'c' || (hash(i * 1000003 + 11) % 30)`) })}
         ELSE ${jsonText({ platform: text(pick(['web', 'ios', 'android'], 'hash(i * 1000003 + 11)')) })}
       END`;
  const insert = (from: number, to: number) =>
    db.query(
      `INSERT INTO events
       SELECT ${g.firstSeq} + i, 'bm-' || (${g.firstSeq} + i), $1, 'track',
         CASE WHEN hash(i * 1000003 + 3) % 100 < 85 THEN 'u' || u END, 'a' || u, event, NULL, NULL,
         ts, NULL, NULL, ts, ${properties}, NULL, NULL, NULL
       FROM (
         SELECT i, u, ${list(EVENT_SLOTS)}[(hash(i * 1000003 + 4) % 100)::INTEGER + 1] AS event,
           -- Half of a user's events are in their favourite category.
           ${pick(CATEGORIES, 'CASE WHEN hash(i * 1000003 + 13) % 2 = 0 THEN hash(u * 1000003 + 14) ELSE hash(i * 1000003 + 12) END')} AS category,
           to_timestamp(${nowS} - 1800 - (hash(u * 64 + hash(i * 1000003 + 6) % ${SESSIONS}) % ${spanS})::BIGINT + (hash(i * 1000003 + 7) % 1800)::BIGINT) AS ts
         FROM (
           SELECT range AS i,
             CASE WHEN hash(range * 1000003 + 1) % 100 < 80 THEN hash(range * 1000003 + 2) % ${heavy}
                  ELSE ${heavy} + hash(range * 1000003 + 2) % ${light} END AS u
           FROM range(${from}, ${to})
         )
       )`,
      [g.sourceId],
    );
  let next = 0;
  const worker = async () => {
    while (next < g.events) {
      const from = next;
      next = Math.min(g.events, next + CHUNK);
      await insert(from, next);
    }
  };
  await Promise.all([worker(), worker()]);
}

/** A profile's attributes as SQL expressions of its user number `k` (NULL: not known). */
const attributes = (nowS: number): Record<string, string> => ({
  plan: pick(PLANS, 'hash(k * 1000003 + 21)'),
  country: pick(COUNTRIES, 'hash(k * 1000003 + 22)'),
  loyalty_tier: `CASE WHEN hash(k * 1000003 + 23) % 100 < 70 THEN ${pick(TIERS, 'hash(k * 1000003 + 24)')} END`,
  age: 'CASE WHEN hash(k * 1000003 + 25) % 100 < 60 THEN 18 + (hash(k * 1000003 + 26) % 63)::INTEGER END',
  // Signed up in the last three years, as ISO-8601 text.
  signup_date: `strftime(TIMESTAMP '1970-01-01' + to_seconds(${nowS} - (hash(k * 1000003 + 27) % ${3 * YEAR_S})::BIGINT), '%Y-%m-%dT%H:%M:%SZ')`,
  email_opt_in: 'hash(k * 1000003 + 28) % 100 < 55',
  lifetime_value:
    'CASE WHEN hash(k * 1000003 + 29) % 100 < 80 THEN round((hash(k * 1000003 + 30) % 500000) / 100.0, 2) END',
});

/** Profile ids as the identity graph makes them: `p_` and 20 characters. */
const profileId = (k: string) => `'p_' || substr(md5('u' || ${k}), 1, 20)`;

/**
 * What identity resolution would have stored for `profiles` users: a user id and an anonymous id
 * per profile, and the profile's unified attributes (JSON text, as survivorship stores them).
 */
export async function generateProfiles(
  db: Database,
  sourceId: string,
  profiles: number,
  now: Date,
): Promise<void> {
  await db.query(
    `INSERT INTO identifiers
     SELECT 2 * k + n, CASE n WHEN 1 THEN 'user_id' ELSE 'anonymous_id' END,
       CASE n WHEN 1 THEN 'u' ELSE 'a' END || k, ${profileId('k')}, false, $2, 'event', 0, $1
     FROM range(${profiles}) t(k), (VALUES (1), (2)) v(n)`,
    [sourceId, now],
  );
  for (const [name, expr] of Object.entries(attributes(Math.floor(now.getTime() / 1000)))) {
    await db.query(
      `INSERT INTO profile_attributes
       SELECT ${profileId('k')}, $1, to_json(v)::VARCHAR, $2 FROM (SELECT k, ${expr} AS v FROM range(${profiles}) t(k))
       WHERE v IS NOT NULL`,
      [name, now],
    );
  }
}

/** One `identify` call per user carrying its attributes as traits, for identity to unify. */
export async function generateIdentifies(
  db: Database,
  sourceId: string,
  profiles: number,
  firstSeq: number,
  now: Date,
): Promise<void> {
  const traits = Object.entries(attributes(Math.floor(now.getTime() / 1000)))
    .map(([name, expr]) => `'${name}', ${expr}`)
    .join(', ');
  await db.query(
    `INSERT INTO events
     SELECT ${firstSeq} + k, 'bi-' || k, $1, 'identify', 'u' || k, 'a' || k, NULL, NULL, NULL,
       $2, NULL, NULL, $2, NULL, json_object(${traits}), NULL, NULL
     FROM range(${profiles}) t(k)`,
    [sourceId, now],
  );
}

/** How a new visitor's anonymous id starts. */
const NEW_VISITOR = 'new-';

/** Makes live track events of the same shapes, for users `0..profiles-1` and some new visitors. */
export class LiveEvents {
  private n = 0;
  private readonly rng = new SeededRandom(0x9e3779b9);

  constructor(
    private readonly sourceId: string,
    private readonly profiles: number,
  ) {}

  /** Whether `next` made `e` for a visitor never seen before (3% of events, each its own visitor). */
  static isNewVisitor(e: StoredEvent): boolean {
    return e.anonymousId?.startsWith(NEW_VISITOR) === true;
  }

  next(at: Date): StoredEvent {
    const i = this.n++;
    const r = () => this.rng.next();
    const heavy = Math.max(1, Math.floor(this.profiles / 5));
    const known = r() < 0.97;
    const u = r() < 0.8 ? Math.floor(r() * heavy) : heavy + Math.floor(r() * (this.profiles - heavy));
    const event = EVENT_SLOTS[Math.floor(r() * 100)]!;
    const category = CATEGORIES[Math.floor(r() * CATEGORIES.length)]!;
    const money = (max: number) => Math.round(100 + r() * max) / 100;
    let properties: Record<string, unknown>;
    if (event === 'Order Completed') {
      const items = 1 + Math.floor(r() * 5);
      properties = { order_id: `lo${i}`, revenue: money(40000), currency: 'USD', category, items };
    } else if (PRODUCT_EVENTS.includes(event)) {
      properties = { product_id: `sku-${Math.floor(r() * 5000)}`, category, price: money(30000) };
    } else if (event === 'Checkout Started') {
      properties = { value: money(60000), items: 1 + Math.floor(r() * 6) };
    } else {
      properties = { platform: ['web', 'ios', 'android'][Math.floor(r() * 3)] };
    }
    return trackEvent(
      {
        messageId: `live-${i}`,
        // 3% are visitors never seen before (a new anonymous profile each).
        userId: known && r() < 0.85 ? `u${u}` : null,
        anonymousId: known ? `a${u}` : `${NEW_VISITOR}${i}`,
        event,
        timestamp: at,
        receivedAt: at,
        properties,
      },
      this.sourceId,
    );
  }
}
