import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type DemoBatch, generateDemo } from './demo-generator.js';

const now = new Date('2026-06-01T00:00:00Z');

async function generate(seed: number, customers = 400) {
  const batches: DemoBatch[] = [];
  const totals = await generateDemo(
    { seed, customers, days: 90, now },
    async (b) => {
      batches.push(b);
    },
    500,
  );
  return {
    totals,
    records: batches.flatMap((b) => b.records),
    events: batches.flatMap((b) => b.events),
    visitors: batches.flatMap((b) => b.visitors),
    digest: createHash('sha256').update(JSON.stringify(batches)).digest('hex'),
  };
}

describe('demo generator', () => {
  it('is deterministic: the same seed and anchor give byte-identical data, another seed other data', async () => {
    const a = await generate(7);
    const b = await generate(7);
    const c = await generate(8);
    expect(a.digest).toBe(b.digest);
    expect(c.digest).not.toBe(a.digest);
  });

  it('spreads customers over three profile sources with overlap, each record naming its true customer', async () => {
    const { records, totals } = await generate(1, 1000);
    expect(totals.customers).toBe(1000);
    const bySource = new Map<string, Set<string>>();
    for (const r of records) {
      expect(r.customerId).toMatch(/^C\d{6}$/);
      if (!bySource.has(r.source)) bySource.set(r.source, new Set());
      bySource.get(r.source)!.add(r.customerId);
    }
    expect([...bySource.keys()].sort()).toEqual(['crm', 'ecommerce', 'loyalty']);
    const everywhere = [...bySource.get('crm')!].filter(
      (c) => bySource.get('loyalty')!.has(c) && bySource.get('ecommerce')!.has(c),
    );
    expect(everywhere.length).toBeGreaterThan(50);
    expect(new Set(records.map((r) => r.customerId)).size).toBe(1000);
  });

  it('makes identifiers messy: case, whitespace, phone formats, typos and shared family emails', async () => {
    const { records } = await generate(3, 2000);
    const emails = records.flatMap((r) => r.identifiers.email ?? []);
    const phones = records.flatMap((r) => r.identifiers.phone ?? []);
    expect(emails.some((e) => e !== e.trim())).toBe(true);
    expect(emails.some((e) => /[A-Z]/.test(e))).toBe(true);
    expect(phones.some((p) => p.startsWith('('))).toBe(true);
    expect(phones.some((p) => p.startsWith('+1 '))).toBe(true);
    expect(phones.some((p) => /^\d{3}\.\d{3}\.\d{4}$/.test(p))).toBe(true);
    const typos = records.filter((r) => r.note === 'typo_email');
    expect(typos.length).toBeGreaterThan(0);
    // A typo'd record always carries the phone that ties it to its customer's CRM record.
    for (const t of typos) expect(t.identifiers.phone).toBeDefined();
    const shared = records.filter((r) => r.note === 'shared_email');
    expect(shared.length).toBeGreaterThan(0);
    const sharedEmail = shared[0]!.identifiers.email![0]!.trim().toLowerCase();
    const owners = new Set(
      records
        .filter((r) => r.identifiers.email?.some((e) => e.trim().toLowerCase() === sharedEmail))
        .map((r) => r.customerId),
    );
    expect(owners.size).toBeGreaterThan(1);
  });

  it('has anonymous visitors who later identify, carts, and purchases with revenue', async () => {
    const { events, visitors } = await generate(5, 1000);
    const identifies = events.filter((e) => e.type === 'identify');
    expect(identifies.length).toBeGreaterThan(100);
    const anon = identifies[0]!.anonymousId!;
    const before = events.filter(
      (e) => e.anonymousId === anon && e.userId === null && e.timestamp < identifies[0]!.timestamp,
    );
    const visitorsWithEarlierAnonymousEvents = identifies.filter((i) =>
      events.some((e) => e.anonymousId === i.anonymousId && e.userId === null && e.timestamp < i.timestamp),
    );
    expect(visitorsWithEarlierAnonymousEvents.length).toBeGreaterThan(10);
    expect(before.every((e) => e.anonymousId === anon)).toBe(true);
    const orders = events.filter((e) => e.event === 'Order Completed');
    expect(orders.length).toBeGreaterThan(10);
    for (const o of orders) {
      const products = o.properties.products as { price: number; quantity: number }[];
      const sum = Math.round(products.reduce((s, p) => s + p.price * p.quantity, 0) * 100) / 100;
      expect(o.properties.revenue).toBe(sum);
      expect(o.userId).not.toBeNull();
    }
    expect(events.some((e) => e.event === 'Product Added')).toBe(true);
    expect(events.every((e) => e.timestamp <= now)).toBe(true);
    expect(visitors.some((v) => v.customerId.startsWith('V'))).toBe(true);
    const anonIds = new Set(visitors.map((v) => v.anonymousId));
    expect(events.every((e) => anonIds.has(e.anonymousId!))).toBe(true);
  });

  it('carries consent flags per channel', async () => {
    const { records, events } = await generate(9, 500);
    const crm = records.filter((r) => r.source === 'crm');
    expect(
      crm.every(
        (r) =>
          typeof r.attributes.consent_email === 'boolean' && typeof r.attributes.consent_sms === 'boolean',
      ),
    ).toBe(true);
    expect(
      records
        .filter((r) => r.source === 'ecommerce')
        .every((r) => typeof r.attributes.consent_advertising === 'boolean'),
    ).toBe(true);
    expect(
      events.some((e) => typeof (e.context.consent as { email?: unknown } | undefined)?.email === 'boolean'),
    ).toBe(true);
  });
});
