import type { ComputedTrait, Source, SourceKind } from '../core/index.js';
import { UserError } from '../core/index.js';
import type { Store } from '../store/index.js';
import { type DemoOptions, type DemoSourceName, generateDemo } from './demo-generator.js';

export const DEMO_SOURCES: Record<DemoSourceName | 'web', { kind: SourceKind; description: string }> = {
  crm: { kind: 'profiles', description: 'Demo: the CRM (customer id, email, phone, address, consent)' },
  loyalty: {
    kind: 'profiles',
    description: 'Demo: the loyalty programme (loyalty id, email or phone, tier, points)',
  },
  ecommerce: { kind: 'profiles', description: 'Demo: e-commerce accounts (user id, email)' },
  web: { kind: 'events', description: 'Demo: website events (anonymous browsing, sign-ins, carts, orders)' },
};

/** The computed traits the demo workspace declares, as a brand would. */
export const DEMO_TRAITS: ComputedTrait[] = [
  { name: 'lifetime_revenue', event: 'Order Completed', aggregate: 'sum', property: 'revenue' },
  { name: 'order_count', event: 'Order Completed', aggregate: 'count' },
  { name: 'average_order_value', event: 'Order Completed', aggregate: 'average', property: 'revenue' },
  { name: 'first_purchase_at', event: 'Order Completed', aggregate: 'first_time' },
  { name: 'last_purchase_at', event: 'Order Completed', aggregate: 'last_time' },
  { name: 'last_seen_at', aggregate: 'last_time' },
  { name: 'favorite_category', event: 'Product Viewed', aggregate: 'most_frequent', property: 'category' },
  { name: 'rfm_recency', event: 'Order Completed', aggregate: 'recency_score' },
  { name: 'rfm_frequency', event: 'Order Completed', aggregate: 'frequency_score', property: 'order_id' },
  { name: 'rfm_monetary', event: 'Order Completed', aggregate: 'monetary_score', property: 'revenue' },
];

export const DEFAULT_DEMO: Omit<DemoOptions, 'now'> = { seed: 42, customers: 50_000, days: 90 };

export interface DemoSummary {
  customers: number;
  visitors: number;
  records: number;
  events: number;
  seconds: number;
}

/**
 * Creates the demo sources and fills them: profile records, web events and the ground truth
 * (`demo_truth`: which customer or visitor is behind each record and anonymous id).
 */
export async function loadDemoWorkspace(
  store: Store,
  options: Partial<DemoOptions> = {},
  onProgress?: (message: string) => void,
): Promise<DemoSummary> {
  const started = Date.now();
  const existing = (await store.sources.list()).filter((s) => s.name in DEMO_SOURCES).map((s) => s.name);
  if (existing.length > 0) {
    throw new UserError(
      'demo_exists',
      `the demo workspace is already here (sources ${existing.join(', ')}); use a fresh data directory`,
    );
  }
  const sources = {} as Record<DemoSourceName | 'web', Source>;
  for (const [name, def] of Object.entries(DEMO_SOURCES)) {
    sources[name as DemoSourceName | 'web'] = await store.sources.create({
      name,
      kind: def.kind,
      description: def.description,
    });
  }
  for (const trait of DEMO_TRAITS) await store.traits.create(trait);
  const opts: DemoOptions = { ...DEFAULT_DEMO, now: new Date(), ...options };
  // The brand's profile sources were connected before the web history starts: their records are
  // stamped as received then, so identity resolution reads them before the events, as it would have.
  const recordsReceivedAt = new Date(opts.now.getTime() - (opts.days + 1) * 86_400_000);
  const totals = await generateDemo(opts, async (batch) => {
    const receivedAt = recordsReceivedAt;
    await store.records.append(
      batch.records.map((r) => ({
        recordId: r.recordId,
        sourceId: sources[r.source].id,
        importId: null,
        rowNumber: null,
        identifiers: r.identifiers,
        attributes: r.attributes,
        receivedAt,
      })),
    );
    await store.events.append(batch.events.map((e) => ({ ...e, sourceId: sources.web.id })));
    await store.db.bulkInsert(
      'demo_truth',
      ['kind', 'source_id', 'record_key', 'customer_id', 'note'],
      [
        ...batch.records.map((r) => ['record', sources[r.source].id, r.recordId, r.customerId, r.note]),
        ...batch.visitors.map((v) => ['anonymous_id', sources.web.id, v.anonymousId, v.customerId, null]),
      ],
    );
    onProgress?.(`demo: ${batch.records.length} records, ${batch.events.length} events written`);
  });
  return { ...totals, seconds: (Date.now() - started) / 1000 };
}
