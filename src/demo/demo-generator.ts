import { SeededRandom, type StoredEvent } from '../core/index.js';
import {
  CITIES,
  EMAIL_DOMAINS,
  FIRST_NAMES,
  LAST_NAMES,
  PAGES,
  PRODUCTS,
  type Product,
  STREETS,
  USER_AGENTS,
} from './catalog.js';
import { messyEmail, messyPhone, typoEmail } from './messy-identifiers.js';

export type DemoSourceName = 'crm' | 'loyalty' | 'ecommerce';

export interface DemoOptions {
  seed: number;
  customers: number;
  /** History length: events and sign-ups fall in the `days` before `now`. */
  days: number;
  /** The anchor of all times. Same seed and same `now`: byte-identical data. */
  now: Date;
}

/** A profile record with the true customer behind it. */
export interface DemoRecord {
  source: DemoSourceName;
  recordId: string;
  identifiers: Record<string, string[]>;
  attributes: Record<string, unknown>;
  customerId: string;
  /** Why this record is special for identity tests, e.g. `shared_email` or `typo_email`. */
  note: string | null;
}

/** An anonymous id with the person behind it (a customer, or a visitor who never identified). */
export interface DemoVisitor {
  anonymousId: string;
  customerId: string;
}

export interface DemoBatch {
  records: DemoRecord[];
  events: Omit<StoredEvent, 'sourceId'>[];
  visitors: DemoVisitor[];
}

interface Customer {
  id: string;
  first: string;
  last: string;
  email: string;
  phone: string;
  city: (typeof CITIES)[number];
  birthday: string;
  consent: { email: boolean; sms: boolean; advertising: boolean };
  favorite: string;
  /** Set for a family member who uses another customer's email. */
  sharedEmail: boolean;
}

/**
 * Generates the demo brand customer by customer, handing batches of about `batchSize` rows to
 * `sink` (so memory stays flat). Deterministic for the same options.
 */
export async function generateDemo(
  options: DemoOptions,
  sink: (batch: DemoBatch) => Promise<void>,
  batchSize = 10_000,
): Promise<{ customers: number; visitors: number; records: number; events: number }> {
  const rng = new SeededRandom(options.seed);
  const now = options.now.getTime();
  const dayMs = 86_400_000;
  let batch: DemoBatch = { records: [], events: [], visitors: [] };
  const totals = { customers: 0, visitors: 0, records: 0, events: 0 };
  let messageSeq = 0;
  const flushIfFull = async (force = false) => {
    const size = batch.records.length + batch.events.length + batch.visitors.length;
    if (size === 0 || (!force && size < batchSize)) return;
    totals.records += batch.records.length;
    totals.events += batch.events.length;
    await sink(batch);
    batch = { records: [], events: [], visitors: [] };
  };

  /** Emails of recent CRM customers, that a family member may share. */
  const crmEmails: string[] = [];
  for (let n = 1; n <= options.customers; n++) {
    const c = makeCustomer(rng, n, crmEmails);
    totals.customers++;
    // A family member who uses another customer's email is in the CRM, as that customer is: the
    // two customer ids are what lets identity resolution see that the email is shared.
    const inCrm = rng.chance(0.7) || c.sharedEmail;
    const inLoyalty = rng.chance(0.4);
    const inShop = rng.chance(0.55) || (!inCrm && !inLoyalty);
    if (inCrm && !c.sharedEmail) crmEmails.push(c.email);
    if (crmEmails.length > 1000) crmEmails.splice(0, 500);
    const note = c.sharedEmail ? 'shared_email' : null;
    const since = new Date(now - rng.int(30, options.days * 4) * dayMs).toISOString().slice(0, 10);

    if (inCrm) {
      batch.records.push({
        source: 'crm',
        recordId: `CRM-${c.id}`,
        identifiers: {
          customer_id: [c.id],
          email: [messyEmail(rng, c.email)],
          phone: [messyPhone(rng, c.phone)],
        },
        attributes: {
          first_name: c.first,
          last_name: c.last,
          // Derived from the customer number, not drawn: the rest of the demo stays as it was.
          address: `${100 + ((n * 7919) % 9900)} ${STREETS[n % STREETS.length]}`,
          ...(n % 5 === 0 ? { address2: `Apt ${1 + (n % 40)}` } : {}),
          city: c.city[0],
          state: rng.chance(0.3) ? c.city[2] : c.city[1],
          postal_code: `${c.city[3]}${String(rng.int(0, 99)).padStart(2, '0')}${rng.chance(0.2) ? `-${rng.int(1000, 9999)}` : ''}`,
          country: 'US',
          time_zone: c.city[4],
          birthday: c.birthday,
          consent_email: c.consent.email,
          consent_sms: c.consent.sms,
          customer_since: since,
        },
        customerId: c.id,
        note,
      });
    }
    if (inLoyalty) {
      // A typo in the email only where the phone still ties the record to the customer's CRM record.
      const typo = inCrm && !c.sharedEmail && rng.chance(0.08);
      // Without an email, the phone ties the record to the customer, so the CRM must have it too.
      const withEmail = typo || !inCrm || rng.chance(0.8);
      const identifiers: Record<string, string[]> = { loyalty_id: [`L${String(700000 + n)}`] };
      if (withEmail) identifiers.email = [typo ? typoEmail(rng, c.email) : messyEmail(rng, c.email)];
      if (typo || !withEmail || c.sharedEmail || rng.chance(0.6))
        identifiers.phone = [messyPhone(rng, c.phone)];
      batch.records.push({
        source: 'loyalty',
        recordId: identifiers.loyalty_id![0]!,
        identifiers,
        attributes: {
          first_name: rng.chance(0.1) ? c.first.toUpperCase() : c.first,
          last_name: c.last,
          tier: rng.pick(['bronze', 'bronze', 'bronze', 'silver', 'silver', 'gold', 'platinum']),
          points: rng.int(0, 25_000),
          joined_at: since,
        },
        customerId: c.id,
        note: typo ? 'typo_email' : note,
      });
    }
    if (inShop) {
      const userId = `U${String(100000 + n)}`;
      batch.records.push({
        source: 'ecommerce',
        recordId: userId,
        // Family members sharing an email signed up with their own phone, which ties their records.
        identifiers: {
          user_id: [userId],
          email: [c.email],
          ...(c.sharedEmail || rng.chance(0.5) ? { phone: [messyPhone(rng, c.phone)] } : {}),
        },
        attributes: {
          first_name: c.first,
          last_name: c.last,
          created_at: since,
          consent_email: c.consent.email,
          consent_advertising: c.consent.advertising,
        },
        customerId: c.id,
        note,
      });
      if (rng.chance(0.85)) webJourney(c, userId);
    }
    await flushIfFull();

    // About one anonymous visitor who never signs in for every four customers.
    if (rng.chance(0.25)) {
      totals.visitors++;
      const visitorId = `V${String(n).padStart(6, '0')}`;
      const anonymousId = uuid();
      batch.visitors.push({ anonymousId, customerId: visitorId });
      const sessions = rng.int(1, 2);
      let t = now - rng.int(1, options.days) * dayMs;
      for (let s = 0; s < sessions; s++) {
        browse(anonymousId, null, t, rng.pick(PRODUCTS).category);
        t += rng.int(1, 10) * dayMs;
        if (t > now) break;
      }
      await flushIfFull();
    }
  }
  await flushIfFull(true);
  return totals;

  function webJourney(c: Customer, userId: string): void {
    const anonymousId = uuid();
    batch.visitors.push({ anonymousId, customerId: c.id });
    // Session times first, so the sign-in falls in one that happened (every account holder signs in).
    const starts: number[] = [];
    let t = now - rng.int(1, options.days) * dayMs - rng.int(0, dayMs);
    for (let s = rng.int(1, 5); s > 0 && t < now - dayMs / 24; s--) {
      starts.push(t);
      t += rng.int(0, 20) * dayMs + rng.int(1, dayMs);
    }
    const identifyAt = rng.int(0, starts.length - 1);
    for (const [s, start] of starts.entries()) {
      if (s === identifyAt) {
        push({
          type: 'identify',
          userId,
          anonymousId,
          t: start,
          traits: { email: c.email, first_name: c.first, last_name: c.last },
          context: rng.chance(0.6) ? { consent: { ...c.consent } } : {},
        });
      }
      browse(anonymousId, s >= identifyAt ? userId : null, start + 1000, c.favorite);
    }
  }

  function browse(anonymousId: string, userId: string | null, start: number, favorite: string): void {
    let t = start;
    const step = () => {
      t += rng.int(5, 180) * 1000;
      return t;
    };
    const page = rng.pick(PAGES);
    push({
      type: 'page',
      userId,
      anonymousId,
      t: step(),
      name: page.name,
      properties: { path: page.path, url: `https://trailhead.example${page.path}` },
    });
    const viewed: Product[] = [];
    for (let i = rng.int(1, 4); i > 0; i--) {
      const pool = rng.chance(0.6) ? PRODUCTS.filter((p) => p.category === favorite) : PRODUCTS;
      const p = rng.pick(pool);
      viewed.push(p);
      push({
        type: 'track',
        event: 'Product Viewed',
        userId,
        anonymousId,
        t: step(),
        properties: productProps(p),
      });
    }
    if (!rng.chance(0.35)) return;
    const cart = viewed
      .slice(0, rng.int(1, viewed.length))
      .map((p) => ({ ...productProps(p), quantity: rng.chance(0.85) ? 1 : 2 }));
    for (const item of cart)
      push({ type: 'track', event: 'Product Added', userId, anonymousId, t: step(), properties: item });
    if (!userId || !rng.chance(0.6)) return; // only signed-in shoppers check out
    const revenue = Math.round(cart.reduce((sum, i) => sum + i.price * i.quantity, 0) * 100) / 100;
    push({
      type: 'track',
      event: 'Checkout Started',
      userId,
      anonymousId,
      t: step(),
      properties: { value: revenue, currency: 'USD', products: cart },
    });
    if (!rng.chance(0.7)) return;
    push({
      type: 'track',
      event: 'Order Completed',
      userId,
      anonymousId,
      t: step(),
      properties: {
        order_id: `O${String(messageSeq).padStart(8, '0')}`,
        revenue,
        currency: 'USD',
        products: cart,
      },
    });
  }

  function push(e: {
    type: StoredEvent['type'];
    event?: string;
    name?: string;
    userId: string | null;
    anonymousId: string;
    t: number;
    properties?: Record<string, unknown>;
    traits?: Record<string, unknown>;
    context?: Record<string, unknown>;
  }): void {
    if (e.t > now) return;
    const at = new Date(e.t);
    batch.events.push({
      messageId: `demo-${options.seed}-${++messageSeq}`,
      type: e.type,
      userId: e.userId,
      anonymousId: e.anonymousId,
      event: e.event ?? e.name ?? null,
      groupId: null,
      previousId: null,
      timestamp: at,
      originalTimestamp: at,
      sentAt: null,
      receivedAt: at,
      properties: e.properties ?? {},
      traits: e.traits ?? {},
      context: { userAgent: rng.pick(USER_AGENTS), ip: `203.0.113.${rng.int(1, 254)}`, ...e.context },
    });
  }

  function uuid(): string {
    const h = rng.hex(32);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }
}

function makeCustomer(rng: SeededRandom, n: number, crmEmails: readonly string[]): Customer {
  const first = rng.pick(FIRST_NAMES);
  const last = rng.pick(LAST_NAMES);
  const city = rng.pick(CITIES);
  // Family members now and then share one email address (a deliberate trap for identity resolution).
  const sharedEmail = crmEmails.length > 10 && rng.chance(0.015);
  const localPart = `${first}.${last}`.toLowerCase().replace(/[^a-z.]/g, '');
  const email = sharedEmail ? rng.pick(crmEmails.slice(-50)) : `${localPart}${n}@${rng.pick(EMAIL_DOMAINS)}`;
  const year = rng.int(1950, 2006);
  return {
    id: `C${String(n).padStart(6, '0')}`,
    first,
    last,
    email,
    // Unique per customer (up to 8 million): an accidental shared phone would merge two people.
    phone: `${city[5]}${2_000_000 + n}`,
    city,
    birthday: `${year}-${String(rng.int(1, 12)).padStart(2, '0')}-${String(rng.int(1, 28)).padStart(2, '0')}`,
    consent: { email: rng.chance(0.7), sms: rng.chance(0.35), advertising: rng.chance(0.55) },
    favorite: rng.pick(PRODUCTS).category,
    sharedEmail,
  };
}

function productProps(p: Product) {
  return { product_id: p.id, sku: `${p.id}-STD`, name: p.name, category: p.category, price: p.price };
}
