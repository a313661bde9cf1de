import type { IdentityConfig } from '../core/index.js';
import { UnionFind } from './union-find.js';
import { ValueIndex } from './value-index.js';

/** What carried an observation: a stored event, profile record or probabilistic match (its `seq`), and its source. */
export interface ObservationRef {
  kind: 'event' | 'record' | 'match';
  seq: number;
  sourceId: string;
  at: Date;
}

/** A normalized identifier. */
export interface Identifier {
  namespace: string;
  value: string;
}

/** What one observation changed in the graph. Profiles are named by their founding identifier. */
export type GraphChange =
  | { kind: 'merge'; kept: number; merged: number; via: number; ref: ObservationRef }
  | {
      kind: 'refusal';
      profile: number;
      other: number;
      via: number;
      namespace: string;
      limit: number;
      ref: ObservationRef;
    }
  | { kind: 'flagged'; identifier: number; profiles: number; ref: ObservationRef };

export interface StitchResult {
  /** The identifier the observation belongs to (its most trusted usable one), if any. */
  anchor: number | undefined;
  /** Identifiers seen for the first time, in id order. */
  created: readonly number[];
  changes: GraphChange[];
}

const NO_KEY = -1;

/**
 * The identity graph in memory: identifiers interned to dense ids, clusters in a union-find, and
 * per cluster its founding (oldest) identifier and identifier counts per limited namespace, so the
 * guardrails are checked in constant time per link.
 */
export class IdentityGraph {
  private readonly sets = new UnionFind(1 << 16);
  /** Per namespace index, its values' ids. */
  private readonly ids: ValueIndex[] = [];
  private readonly namespaces: string[] = [];
  private readonly namespaceIndex = new Map<string, number>();
  /** Per namespace index: its rank (lower links first), its limit slot (or -1) and whether it is a person key. */
  private readonly rank: number[] = [];
  private readonly slot: number[] = [];
  private readonly personKey: boolean[] = [];
  private slotLimits: number[] = [];
  private stride = 8;
  private nsOf = new Uint16Array(1 << 16);
  private values: string[] = [];
  private oldest = new Int32Array(1 << 16);
  private counts = new Uint8Array((1 << 16) * 8);
  private flags = new Uint8Array(1 << 16);
  /** Person keys seen beside an identifier: the first in a flat array, further ones in a map. */
  private firstKey = new Int32Array(1 << 16).fill(NO_KEY);
  private readonly moreKeys = new Map<number, number[]>();
  /** (identifier, person key) pairs not yet drained, flat. */
  private newKeys = new Int32Array(1024);
  private newKeyCount = 0;

  private roots = 0;

  constructor(private readonly config: IdentityConfig) {}

  get size(): number {
    return this.sets.length;
  }

  /** Number of profiles (clusters). */
  profileCount(): number {
    return this.roots;
  }

  /** The id of an identifier, if the graph has seen it. */
  idOf(namespace: string, value: string): number | undefined {
    const ns = this.namespaceIndex.get(namespace);
    return ns === undefined ? undefined : this.ids[ns]!.get(value);
  }

  identifier(id: number): Identifier {
    return { namespace: this.namespaces[this.nsOf[id]!]!, value: this.values[id]! };
  }

  /** The founding (oldest) identifier of the profile an identifier belongs to. */
  founderOf(id: number): number {
    return this.oldest[this.sets.find(id)]!;
  }

  isFlagged(id: number): boolean {
    return this.flags[id] === 1;
  }

  /** Marks an identifier as shared (restoring state from the store). */
  flag(id: number): void {
    this.flags[id] = 1;
  }

  /** Adds an identifier with no link (restoring state from the store); returns its id. */
  intern(identifier: Identifier): { id: number; created: boolean } {
    const ns = this.namespaceId(identifier.namespace);
    const index = this.ids[ns]!;
    const known = index.get(identifier.value);
    if (known !== undefined) return { id: known, created: false };
    const id = this.sets.add();
    this.ensureCapacity(id + 1);
    index.set(identifier.value, id);
    this.nsOf[id] = ns;
    this.values[id] = identifier.value;
    this.oldest[id] = id;
    const s = this.slot[ns]!;
    if (s >= 0) this.counts[id * this.stride + s] = 1;
    this.roots++;
    return { id, created: true };
  }

  /** Joins two identifiers unconditionally (restoring clusters from the store). */
  join(a: number, b: number): void {
    this.union(this.sets.find(a), this.sets.find(b));
  }

  /**
   * Links the identifiers of one event or record, most trusted first, refusing any link that would
   * break a namespace limit and never linking through blocked-as-shared identifiers.
   */
  stitch(identifiers: readonly Identifier[], ref: ObservationRef): StitchResult {
    const created: number[] = [];
    const seen: number[] = [];
    for (const identifier of identifiers) {
      const { id, created: isNew } = this.intern(identifier);
      if (seen.includes(id)) continue;
      seen.push(id);
      if (isNew) created.push(id);
    }
    return this.link(seen, created, ref);
  }

  /**
   * Links identifiers already interned (`stitch` after interning; a replay of stored links).
   * `created` lists those seen for the first time in this observation.
   */
  link(seen: readonly number[], created: readonly number[], ref: ObservationRef): StitchResult {
    const changes: GraphChange[] = [];
    // Most observations link two identifiers: ordered by one comparison, without a sort.
    const usable =
      seen.length === 2
        ? this.linksBefore(seen[1]!, seen[0]!)
          ? [seen[1]!, seen[0]!]
          : [seen[0]!, seen[1]!]
        : [...seen].sort((a, b) => (a === b ? 0 : this.linksBefore(a, b) ? -1 : 1));
    const anchor = usable[0];
    for (let i = 1; i < usable.length; i++) {
      const via = usable[i]!;
      const ra = this.sets.find(anchor!);
      const rx = this.sets.find(via);
      if (ra === rx) continue;
      // A shared identifier still belongs somewhere (the first profile it was seen in), but it
      // never bridges two profiles.
      if (this.flags[via] === 1 && this.sets.sizeOf(rx) > 1) continue;
      const broken = this.brokenLimit(ra, rx);
      if (broken !== undefined) {
        changes.push({
          kind: 'refusal',
          profile: this.oldest[ra]!,
          other: this.oldest[rx]!,
          via,
          namespace: this.namespaces[this.slotNamespace(broken)]!,
          limit: this.slotLimits[broken]!,
          ref,
        });
        continue;
      }
      // A cluster made of identifiers first seen now is no profile yet: joining it is no merge.
      const fresh = this.isFresh(ra, created) || this.isFresh(rx, created);
      const [kept, merged] = [this.oldest[ra]!, this.oldest[rx]!].sort((a, b) => a - b) as [number, number];
      this.union(ra, rx);
      if (!fresh) changes.push({ kind: 'merge', kept, merged, via, ref });
    }
    this.detectShared(seen, ref, changes);
    return { anchor, created, changes };
  }

  /**
   * Whether `a` links before `b`: shared identifiers last (they never anchor an observation while
   * another can), then by namespace priority, then the older first.
   */
  private linksBefore(a: number, b: number): boolean {
    const byFlag = this.flags[a]! - this.flags[b]!;
    if (byFlag !== 0) return byFlag < 0;
    const byRank = this.rank[this.nsOf[a]!]! - this.rank[this.nsOf[b]!]!;
    return byRank !== 0 ? byRank < 0 : a < b;
  }

  private isFresh(root: number, created: readonly number[]): boolean {
    return created.includes(this.oldest[root]!);
  }

  private union(ra: number, rb: number): void {
    if (ra === rb) return;
    this.roots--;
    const root = this.sets.unionRoots(ra, rb);
    const other = root === ra ? rb : ra;
    this.oldest[root] = Math.min(this.oldest[ra]!, this.oldest[rb]!);
    const stride = this.stride;
    for (let s = 0; s < this.slotLimits.length; s++) {
      this.counts[root * stride + s] = Math.min(
        255,
        this.counts[root * stride + s]! + this.counts[other * stride + s]!,
      );
    }
  }

  /** The first limit slot the union of two clusters would exceed. */
  private brokenLimit(ra: number, rb: number): number | undefined {
    const stride = this.stride;
    for (let s = 0; s < this.slotLimits.length; s++) {
      if (this.counts[ra * stride + s]! + this.counts[rb * stride + s]! > this.slotLimits[s]!) return s;
    }
    return undefined;
  }

  /**
   * Notes which person keys (namespaces limited to one per profile) each other identifier is seen
   * with; one seen with the keys of more than `maxSharedBy` profiles that stay distinct after
   * linking (the guardrails kept them apart) is flagged, and links nothing from then on.
   */
  private detectShared(ids: readonly number[], ref: ObservationRef, changes: GraphChange[]): void {
    let keys = 0;
    for (const id of ids) if (this.personKey[this.nsOf[id]!]) keys++;
    if (keys === 0 || keys === ids.length) return;
    for (const id of ids) {
      if (this.personKey[this.nsOf[id]!] || this.flags[id] === 1) continue;
      let added = false;
      for (const key of ids) if (this.personKey[this.nsOf[key]!] && this.addKey(id, key)) added = true;
      if (!added) continue;
      const profiles = this.distinctKeyProfiles(id);
      if (profiles > this.config.maxSharedBy) {
        this.flags[id] = 1;
        changes.push({ kind: 'flagged', identifier: id, profiles, ref });
      }
    }
  }

  /** Notes that `id` was seen with the person key `key`; true when that is new. */
  private addKey(id: number, key: number): boolean {
    const first = this.firstKey[id]!;
    if (first === NO_KEY) {
      this.firstKey[id] = key;
    } else {
      if (first === key) return false;
      const more = this.moreKeys.get(id);
      if (!more) this.moreKeys.set(id, [key]);
      else if (!more.includes(key) && more.length <= this.config.maxSharedBy * 4) more.push(key);
      else return false;
    }
    if (this.newKeyCount + 2 > this.newKeys.length) {
      const grown = new Int32Array(this.newKeys.length * 2);
      grown.set(this.newKeys);
      this.newKeys = grown;
    }
    this.newKeys[this.newKeyCount++] = id;
    this.newKeys[this.newKeyCount++] = key;
    return true;
  }

  /**
   * The (identifier, person key) pairs seen since the last call, flat: the store keeps them so
   * that a restarted graph goes on detecting shared identifiers as the first one did.
   */
  drainKeys(): Int32Array {
    const keys = this.newKeys.slice(0, this.newKeyCount);
    this.newKeyCount = 0;
    return keys;
  }

  /** Restores a stored (identifier, person key) pair. */
  restoreKey(id: number, key: number): void {
    this.addKey(id, key);
    this.newKeyCount = 0;
  }

  private distinctKeyProfiles(id: number): number {
    const more = this.moreKeys.get(id);
    if (!more) return 1;
    const roots = new Set<number>([this.sets.find(this.firstKey[id]!)]);
    for (const key of more) roots.add(this.sets.find(key));
    return roots.size;
  }

  private namespaceId(namespace: string): number {
    const known = this.namespaceIndex.get(namespace);
    if (known !== undefined) return known;
    const ns = this.namespaces.length;
    this.namespaces.push(namespace);
    this.namespaceIndex.set(namespace, ns);
    this.ids.push(new ValueIndex());
    const listed = this.config.priority.indexOf(namespace);
    const emailRank = this.config.priority.indexOf('email');
    this.rank.push(listed >= 0 ? listed : emailRank >= 0 ? emailRank - 0.5 : this.config.priority.length);
    const limit = this.config.limits[namespace] ?? (listed >= 0 ? undefined : this.config.defaultLimit);
    this.personKey.push(limit === 1);
    if (limit === undefined) {
      this.slot.push(-1);
    } else {
      if (this.slotLimits.length === this.stride) this.widen();
      this.slot.push(this.slotLimits.length);
      this.slotLimits.push(Math.min(limit, 254));
    }
    return ns;
  }

  private slotNamespace(slot: number): number {
    return this.slot.indexOf(slot);
  }

  /** More limited namespaces than the counts array has room for: lay it out again, twice as wide. */
  private widen(): void {
    const stride = this.stride * 2;
    const counts = new Uint8Array(this.oldest.length * stride);
    for (let id = 0; id < this.sets.length; id++) {
      counts.set(this.counts.subarray(id * this.stride, (id + 1) * this.stride), id * stride);
    }
    this.counts = counts;
    this.stride = stride;
  }

  private ensureCapacity(n: number): void {
    if (n <= this.oldest.length) return;
    const capacity = Math.max(n, this.oldest.length * 2);
    this.nsOf = grow(this.nsOf, capacity, Uint16Array);
    this.oldest = grow(this.oldest, capacity, Int32Array);
    this.flags = grow(this.flags, capacity, Uint8Array);
    const firstKey = new Int32Array(capacity).fill(NO_KEY);
    firstKey.set(this.firstKey);
    this.firstKey = firstKey;
    const counts = new Uint8Array(capacity * this.stride);
    counts.set(this.counts);
    this.counts = counts;
  }
}

function grow<T extends Uint8Array | Uint16Array | Int32Array>(
  array: T,
  capacity: number,
  Kind: new (n: number) => T,
): T {
  const next = new Kind(capacity);
  next.set(array);
  return next;
}
