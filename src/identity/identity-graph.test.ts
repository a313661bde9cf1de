import { describe, expect, it } from 'vitest';
import { IdentityConfigSchema } from '../core/index.js';
import { IdentityGraph, type ObservationRef } from './identity-graph.js';
import { IdentifierNormalizer } from './normalize-identifier.js';

const config = IdentityConfigSchema.parse({});
let seq = 0;
const ref = (): ObservationRef => ({ kind: 'record', seq: ++seq, sourceId: 'src_test', at: new Date() });
const ids = (...pairs: string[]) =>
  pairs.map((p) => ({ namespace: p.slice(0, p.indexOf(':')), value: p.slice(p.indexOf(':') + 1) }));

function founder(graph: IdentityGraph, identifier: string): number | undefined {
  const [i] = ids(identifier);
  const id = graph.idOf(i!.namespace, i!.value);
  return id === undefined ? undefined : graph.founderOf(id);
}

describe('identity graph', () => {
  it('links the identifiers of one observation into one profile founded by the oldest', () => {
    const g = new IdentityGraph(config);
    g.stitch(ids('email:ann@example.com'), ref());
    const r = g.stitch(ids('customer_id:C1', 'email:ann@example.com', 'phone:+14155552671'), ref());
    expect(r.created).toHaveLength(2);
    expect(founder(g, 'phone:+14155552671')).toBe(founder(g, 'email:ann@example.com'));
    expect(founder(g, 'customer_id:C1')).toBe(g.idOf('email', 'ann@example.com'));
    expect(g.profileCount()).toBe(1);
  });

  it('brings an anonymous visitor into the known profile when they sign in, recording the merge', () => {
    const g = new IdentityGraph(config);
    g.stitch(ids('user_id:U1', 'email:ann@example.com'), ref());
    g.stitch(ids('anonymous_id:a-1'), ref());
    expect(g.profileCount()).toBe(2);
    const r = g.stitch(ids('user_id:U1', 'anonymous_id:a-1'), ref());
    expect(g.profileCount()).toBe(1);
    expect(r.changes).toEqual([
      expect.objectContaining({
        kind: 'merge',
        kept: g.idOf('user_id', 'U1'),
        merged: g.idOf('anonymous_id', 'a-1'),
      }),
    ]);
  });

  it('refuses a link that would give a profile two user ids, and keeps the profiles apart', () => {
    const g = new IdentityGraph(config);
    g.stitch(ids('user_id:U1', 'email:family@example.com'), ref());
    const r = g.stitch(ids('user_id:U2', 'email:family@example.com'), ref());
    expect(r.changes[0]).toEqual(
      expect.objectContaining({
        kind: 'refusal',
        namespace: 'user_id',
        limit: 1,
        via: g.idOf('email', 'family@example.com'),
      }),
    );
    expect(founder(g, 'user_id:U2')).not.toBe(founder(g, 'user_id:U1'));
    expect(founder(g, 'email:family@example.com')).toBe(founder(g, 'user_id:U1'));
  });

  it('refuses a sixth email on one profile', () => {
    const g = new IdentityGraph(config);
    for (let i = 1; i <= 5; i++) g.stitch(ids('customer_id:C1', `email:e${i}@example.com`), ref());
    const r = g.stitch(ids('customer_id:C1', 'email:e6@example.com'), ref());
    expect(r.changes).toEqual([expect.objectContaining({ kind: 'refusal', namespace: 'email', limit: 5 })]);
    expect(g.profileCount()).toBe(2);
  });

  it('links the most trusted identifier first, so the less trusted one is refused', () => {
    const g = new IdentityGraph(config);
    g.stitch(ids('user_id:U1', 'email:a@example.com'), ref());
    // Listed email first, but user_id ranks higher: U2 anchors the observation, the email is refused.
    const r = g.stitch(ids('email:a@example.com', 'user_id:U2', 'phone:+14155550000'), ref());
    expect(r.anchor).toBe(g.idOf('user_id', 'U2'));
    expect(founder(g, 'phone:+14155550000')).toBe(founder(g, 'user_id:U2'));
  });

  it('flags an email that two customers claim, so it links neither of them further', () => {
    const g = new IdentityGraph(config);
    g.stitch(ids('customer_id:C1', 'email:family@example.com'), ref());
    const r = g.stitch(ids('customer_id:C2', 'email:family@example.com', 'phone:+14155550002'), ref());
    const family = g.idOf('email', 'family@example.com')!;
    expect(r.changes.map((c) => c.kind)).toEqual(['refusal', 'flagged']);
    // The second customer's shop account carries the same email and their own phone: it joins them.
    g.stitch(ids('user_id:U2', 'email:family@example.com', 'phone:+14155550002'), ref());
    expect(founder(g, 'user_id:U2')).toBe(founder(g, 'customer_id:C2'));
    expect(founder(g, 'email:family@example.com')).toBe(founder(g, 'customer_id:C1'));
    expect(g.isFlagged(family)).toBe(true);
  });

  it('flags an identifier on the records of more than maxSharedBy distinct customers and links nothing through it', () => {
    const g = new IdentityGraph(IdentityConfigSchema.parse({ maxSharedBy: 3 }));
    const changes = [];
    for (let i = 1; i <= 4; i++) {
      changes.push(...g.stitch(ids(`customer_id:C${i}`, 'email:store@brand.test'), ref()).changes);
    }
    const shared = g.idOf('email', 'store@brand.test')!;
    expect(changes.filter((c) => c.kind === 'refusal')).toHaveLength(3);
    expect(changes.filter((c) => c.kind === 'flagged')).toEqual([
      expect.objectContaining({ identifier: shared, profiles: 4 }),
    ]);
    expect(g.isFlagged(shared)).toBe(true);
    // A flagged identifier no longer merges even profiles the limits would allow.
    g.stitch(ids('anonymous_id:visitor', 'email:store@brand.test'), ref());
    expect(founder(g, 'anonymous_id:visitor')).toBe(g.idOf('anonymous_id', 'visitor'));
  });

  it('does not flag an identifier whose person keys end up in one profile', () => {
    const g = new IdentityGraph(config);
    for (const key of ['customer_id:C1', 'user_id:U1', 'loyalty_id:L1', 'pos_id:P1', 'member_id:M1']) {
      g.stitch(ids(key, 'email:ann@example.com'), ref());
    }
    expect(g.isFlagged(g.idOf('email', 'ann@example.com')!)).toBe(false);
    expect(g.profileCount()).toBe(1);
  });

  it('applies limits to custom namespaces (one per profile unless configured)', () => {
    const g = new IdentityGraph(IdentityConfigSchema.parse({ limits: { pos_id: 3 } }));
    g.stitch(ids('pos_id:P1', 'email:a@example.com'), ref());
    g.stitch(ids('pos_id:P2', 'email:a@example.com'), ref());
    const r = g.stitch(ids('member_id:M1', 'email:a@example.com'), ref());
    g.stitch(ids('member_id:M2', 'email:a@example.com'), ref());
    expect(r.changes).toEqual([]);
    expect(founder(g, 'pos_id:P2')).toBe(founder(g, 'pos_id:P1'));
    expect(founder(g, 'member_id:M2')).not.toBe(founder(g, 'member_id:M1'));
  });

  it('keeps working past its initial capacity and many namespaces', () => {
    const g = new IdentityGraph(config);
    for (let i = 0; i < 100_000; i++) g.stitch(ids(`user_id:U${i}`, `anonymous_id:A${i}`), ref());
    for (let n = 0; n < 20; n++) g.stitch(ids('user_id:U1', `key${n}:v`), ref());
    expect(g.size).toBe(200_020);
    expect(g.profileCount()).toBe(100_000);
    expect(founder(g, 'key19:v')).toBe(founder(g, 'anonymous_id:A1'));
  });
});

describe('identifier normalizer', () => {
  const n = new IdentifierNormalizer(config);
  it('normalizes emails and phones as the ad platforms expect', () => {
    expect(n.normalize('email', '  Ann@Example.COM ')).toEqual({
      ok: true,
      namespace: 'email',
      value: 'ann@example.com',
    });
    expect(n.normalize('phone', '(415) 555-2671')).toMatchObject({ ok: true, value: '+14155552671' });
    expect(n.normalize('phone', '+44 20 7946 0958')).toMatchObject({ ok: true, value: '+442079460958' });
    expect(n.normalize('customer_id', ' C-001 ')).toMatchObject({ ok: true, value: 'C-001' });
  });
  it('refuses malformed and blocked values', () => {
    expect(n.normalize('email', 'not-an-email')).toMatchObject({ ok: false, reason: 'invalid' });
    expect(n.normalize('email', 'test@test.com')).toMatchObject({ ok: false, reason: 'blocked' });
    expect(n.normalize('email', ' NoReply@Brand.com')).toMatchObject({ ok: false, reason: 'blocked' });
    expect(n.normalize('user_id', 'null')).toMatchObject({ ok: false, reason: 'blocked' });
    expect(n.normalize('customer_id', 'Unknown')).toMatchObject({ ok: false, reason: 'blocked' });
    expect(n.normalize('phone', '000-000-0000')).toMatchObject({ ok: false });
    expect(n.normalize('phone', '(555) 555-5555')).toMatchObject({ ok: false, reason: 'blocked' });
    expect(n.normalize('email', '   ')).toMatchObject({ ok: false, reason: 'empty' });
  });
});
