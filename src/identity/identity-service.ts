import { createHash, randomBytes } from 'node:crypto';
import {
  type IdentityConfig,
  IdentityConfigSchema,
  POPULATION_AGGREGATES,
  parseOrThrow,
  type StoredEvent,
  UserError,
} from '../core/index.js';
import type { EventIdentityRow, IdentityChanges, ProfileAlias, Store, StoreLock } from '../store/index.js';
import { ComputedTraits } from './computed-traits.js';
import { type Identifier, IdentityGraph } from './identity-graph.js';
import { aliasesOf, type PassCursors, type PassResult, runIdentityPass } from './identity-pass.js';
import { IdentifierNormalizer } from './normalize-identifier.js';
import { eventIdentityRow, eventObservation, namesOtherIdentifiers } from './observations.js';
import { type MatchingSummary, replayMatches, runMatchingPass } from './probabilistic-pass.js';
import { ProfileAttributes } from './profile-attributes.js';

/** Most events kept in memory for the next pass; past it, the pass reads them from the store. */
const MAX_FRESH = 200_000;

/** How often the service looks for data stored by other processes (and for a free writer role). */
const POLL_MS = 5000;

/** What a pass changed, for whoever keeps state per profile (segments). */
export interface ProfileChanges {
  /** Every event up to this seq is stitched. */
  eventsThrough: number;
  /** Profiles whose identifiers, attributes or traits may have changed; undefined: any profile. */
  profiles: readonly string[] | undefined;
  /** Of those, the ones whose attribute or trait values may have changed; undefined: any profile. */
  valuesChanged: readonly string[] | undefined;
  /** Profiles merged into others (the old id is now an alias). */
  moves: readonly { oldId: string; newId: string }[];
  /**
   * The graph was built again from everything stored (`rebuild`): with other settings, profiles
   * may have split, merged or gone, none of it announced as moves.
   */
  rebuilt?: boolean;
}

export interface StitchSummary {
  observations: number;
  identifiers: number;
  merges: number;
  refusals: number;
  flagged: number;
  unusable: number;
  profiles: number;
  seconds: number;
}

/**
 * Keeps the identity graph: loads it from the store, stitches every new event and profile record
 * as it arrives (`notify`), and rebuilds it from all stored data on demand. One writer per store.
 */
export class IdentityService {
  private graph: IdentityGraph;
  private currentNormalizer: IdentifierNormalizer;
  private cursors: PassCursors = { events: 0, records: 0, auditSeq: 0 };
  private salt = '';
  private profileIds = new Map<number, string>();
  private running: Promise<unknown> | undefined;
  private again = false;
  /** Events offered by the writer and not yet stitched, consecutive by seq. */
  private fresh: EventIdentityRow[] = [];
  /** The seq of the last event offered. */
  private offeredThrough = 0;
  /** Set when a failed pass left the graph in memory unlike the store: reload before the next. */
  private stale = false;
  private timer: NodeJS.Timeout | undefined;
  private poll: NodeJS.Timeout | undefined;
  private lock: StoreLock | undefined;
  /** The trait definitions the stored values were computed for. */
  private traitSignature = '';
  private closed = false;
  readonly traits: ComputedTraits;
  readonly attributes: ProfileAttributes;
  private readonly listeners: ((changes: ProfileChanges) => void)[] = [];
  /**
   * Identifiers of unstitched events given a profile ahead of their pass
   * (`provisionalProfileOfEvent`; undefined: they wait for it), with the last such event's seq.
   */
  private provisional = new Map<string, { profile: ProvisionalProfile | undefined; seq: number }>();

  private constructor(
    private readonly store: Store,
    private config: IdentityConfig,
    private readonly onError: (err: unknown) => void,
  ) {
    this.graph = new IdentityGraph(config);
    this.currentNormalizer = new IdentifierNormalizer(config);
    this.traits = new ComputedTraits(store);
    this.attributes = new ProfileAttributes(store, () => this.config);
  }

  /** Loads the stored graph (or starts an empty one) and the stored configuration. */
  static async open(store: Store, onError: (err: unknown) => void = () => {}): Promise<IdentityService> {
    const service = new IdentityService(store, IdentityConfigSchema.parse({}), onError);
    service.lock = await store.db.tryLock('identity');
    await service.loadState();
    // Picks up what other processes stored (an import from the CLI, another server on the same
    // PostgreSQL database), and lets a waiting process take over from a writer that stopped.
    service.poll = setInterval(() => service.notify(), POLL_MS);
    service.poll.unref();
    return service;
  }

  /** Whether this process stitches for the store (one process does; the others wait their turn). */
  get isWriter(): boolean {
    return this.lock !== undefined;
  }

  get identityConfig(): IdentityConfig {
    return this.config;
  }

  /** Every event up to this seq is stitched. */
  get eventsStitchedThrough(): number {
    return this.cursors.events;
  }

  /** Calls `listener` after each pass, rebuild or match has stored what it changed. */
  subscribe(listener: (changes: ProfileChanges) => void): void {
    this.listeners.push(listener);
  }

  /** The profile an event belongs to: that of its user id, else of its anonymous id. */
  profileOfEvent(
    userId: string | null | undefined,
    anonymousId: string | null | undefined,
  ): string | undefined {
    for (const [namespace, value] of [
      ['user_id', userId],
      ['anonymous_id', anonymousId],
    ] as const) {
      if (value === null || value === undefined) continue;
      const id = this.graph.idOf(namespace, value);
      if (id !== undefined) return this.profileIdOf(this.graph.founderOf(id));
    }
    return undefined;
  }

  /**
   * The profile an event belongs to if no stitching pass can change it: its user id (if it has one)
   * is known, and its anonymous id is unknown or on the same profile. Undefined otherwise (a pass
   * must link its identifiers first), and in a process that does not stitch (its graph may lag).
   * A later merge of that profile is announced as a move, like any other. Given the event's `seq`,
   * its unknown identifiers (the anonymous id; given the event, any of them, a device id say) are
   * noted as joining a known profile: their next events wait for the pass
   * (`provisionalProfileOfEvent` does not found a profile for them).
   */
  settledProfileOfEvent(
    userId: string | null | undefined,
    anonymousId: string | null | undefined,
    seq?: number,
    event?: StoredEvent,
  ): string | undefined {
    if (!this.lock) return undefined;
    const user = userId === null || userId === undefined ? undefined : this.graph.idOf('user_id', userId);
    if (user === undefined && userId !== null && userId !== undefined) return undefined;
    const anonymous =
      anonymousId === null || anonymousId === undefined
        ? undefined
        : this.graph.idOf('anonymous_id', anonymousId);
    const founder = user === undefined ? undefined : this.graph.founderOf(user);
    const anonymousFounder = anonymous === undefined ? undefined : this.graph.founderOf(anonymous);
    if (founder !== undefined && anonymousFounder !== undefined && founder !== anonymousFounder)
      return undefined;
    const settled = founder ?? anonymousFounder;
    if (settled === undefined) return undefined;
    const profileId = this.profileIdOf(settled);
    if (seq === undefined) return profileId;
    // Most events name only their user and anonymous ids: the others are normalized when named.
    if (event !== undefined && namesOtherIdentifiers(event)) {
      for (const i of this.identifiersOfRow(eventIdentityRow(seq, event))) {
        if (!this.isKnown(i)) this.provisional.set(keyOf(i), { profile: undefined, seq });
      }
    } else if (anonymous === undefined && anonymousId !== null && anonymousId !== undefined) {
      const n = this.currentNormalizer.normalize('anonymous_id', anonymousId);
      if (n.ok) this.provisional.set(keyOf(n), { profile: undefined, seq });
    }
    return profileId;
  }

  /**
   * The profile the next pass will found for an event none of whose identifiers the graph knows:
   * that of its first identifier (its user id, else its anonymous id), or the one an earlier
   * unstitched event looked at here gave them. Undefined if one of them is known (see
   * `settledProfileOfEvent`) or given to another profile here, and in a process that does not
   * stitch. Records, and events not looked at here, can still link the identifiers elsewhere: a
   * caller that acts on the answer checks the event's profile once it is stitched (`isFounded`).
   */
  provisionalProfileOfEvent(seq: number, e: StoredEvent): ProvisionalProfile | undefined {
    if (!this.lock) return undefined;
    const identifiers = this.identifiersOfRow(eventIdentityRow(seq, e));
    const first = identifiers[0];
    if (first === undefined) return undefined;
    // The profile an event belongs to is its user id's, else its anonymous id's.
    const owner = first.namespace === 'user_id' ? e.userId : e.anonymousId;
    let profile: ProvisionalProfile | undefined =
      first.value === owner && (first.namespace === 'user_id' || first.namespace === 'anonymous_id')
        ? { id: profileIdFor(this.salt, first.namespace, first.value), founder: first }
        : undefined;
    const unknown = identifiers.filter((i) => !this.isKnown(i));
    if (unknown.length < identifiers.length) profile = undefined;
    // An identifier an earlier unstitched event named: the pass founds their profile there.
    const earlier = unknown.flatMap((i) => {
      const p = this.provisional.get(keyOf(i));
      return p ? [p.profile] : [];
    });
    if (earlier.includes(undefined) || new Set(earlier.map((p) => p?.id)).size > 1) profile = undefined;
    else if (profile !== undefined && earlier.length > 0) profile = earlier[0];
    for (const i of unknown) this.provisional.set(keyOf(i), { profile, seq });
    return profile;
  }

  /** Forgets what was foreseen for events stitched through `seq` (their identifiers are known). */
  private forgetForeseen(seq: number): void {
    for (const [key, p] of this.provisional) if (p.seq <= seq) this.provisional.delete(key);
  }

  /** An event's identifiers as a pass reads them. */
  private identifiersOfRow(row: EventIdentityRow): Identifier[] {
    return eventObservation(row, this.currentNormalizer, (v) =>
      this.isKnown({ namespace: 'user_id', value: v }),
    ).identifiers;
  }

  private isKnown(i: Identifier): boolean {
    return this.graph.idOf(i.namespace, i.value) !== undefined;
  }

  /**
   * Whether stitching founded a profile foreseen by `provisionalProfileOfEvent`: its founding
   * identifier is known and founds its cluster. The pass may have given some of its events to
   * other profiles and still founded it for the rest.
   */
  isFounded(profile: ProvisionalProfile): boolean {
    const id = this.graph.idOf(profile.founder.namespace, profile.founder.value);
    return id !== undefined && this.profileIdOf(this.graph.founderOf(id)) === profile.id;
  }

  /** Normalizes identifiers the way the graph stores them (for lookups by identifier). */
  get normalizer(): IdentifierNormalizer {
    return this.currentNormalizer;
  }

  /** Deletes a computed trait and its values, between passes (so no refresh writes them again). */
  deleteTrait(name: string): Promise<void> {
    return this.serialized(async () => {
      await this.store.traits.delete(name);
      if (this.lock) this.traitSignature = JSON.stringify(await this.store.traits.list());
    });
  }

  /**
   * Recomputes every computed trait for every profile (after a trait is declared). A process that
   * is not the writer leaves it to the writer, which sees the new trait at its next pass.
   */
  refreshTraits(): Promise<{ profiles: number; traits: number }> {
    return this.serialized(async () => {
      if (!(await this.claimWriter()))
        return { profiles: 0, traits: (await this.store.traits.list()).length };
      const result = await this.traits.refresh();
      this.traitSignature = JSON.stringify(await this.store.traits.list());
      this.announce(undefined, []);
      return result;
    });
  }

  /** Recomputes the RFM scores (which rank every profile) before a batch evaluation reads them. */
  refreshScores(): Promise<void> {
    return this.serialized(async () => {
      if (!(await this.claimWriter())) return;
      const { traits } = await this.traits.refresh(undefined, (t) =>
        POPULATION_AGGREGATES.includes(t.aggregate),
      );
      if (traits > 0) this.announce(undefined, []);
    });
  }

  /**
   * Asks for a stitching pass. An idle service starts one at once; under a stream of writes,
   * requests made during a pass coalesce into one next pass, which waits as long as the last one
   * took, so stitching takes at most about half of the store's time from ingestion.
   */
  notify(): void {
    if (this.closed) return;
    if (this.running || this.timer) {
      this.again = true;
      return;
    }
    const started = performance.now();
    this.running = this.catchUp()
      .catch(this.onError)
      .finally(() => {
        this.running = undefined;
        if (!this.again || this.closed) return;
        this.again = false;
        const gap = Math.min(1000, performance.now() - started);
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.notify();
        }, gap);
      });
  }

  /**
   * Hands over events the ingest writer just stored (their seqs start at `firstSeq`), so the next
   * pass need not read them back; then asks for a pass. A gap in the seqs (another writer) or a
   * backlog past `MAX_FRESH` falls back to reading from the store.
   */
  offer(firstSeq: number, events: readonly StoredEvent[]): void {
    const rows = events.map((e, i) => eventIdentityRow(firstSeq + i, e));
    if (firstSeq === this.offeredThrough + 1 && this.fresh.length + rows.length <= MAX_FRESH) {
      this.fresh.push(...rows);
    } else {
      // Not continuing what was offered (another writer stored events between): a new run, which
      // a pass uses only once its cursor reaches it.
      this.fresh = rows.length <= MAX_FRESH ? rows : [];
    }
    this.offeredThrough = firstSeq + events.length - 1;
    this.notify();
  }

  /** Waits until every event and record stored so far is stitched. */
  async settle(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.again = false;
    while (this.running) await this.running;
    await this.serialized(() => this.catchUp());
  }

  /** Stitches what was stored since the last pass. */
  async catchUp(): Promise<StitchSummary> {
    const started = performance.now();
    if (!(await this.claimWriter())) return this.idle(started);
    if (this.stale) await this.reload();
    const fresh = this.fresh;
    this.fresh = [];
    try {
      const pass = await runIdentityPass(
        this.store,
        this.graph,
        this.currentNormalizer,
        this.config,
        (id) => this.profileIdOf(id),
        this.cursors,
        fresh,
      );
      // Offered events the pass did not reach (stored after it began) wait for the next one.
      this.fresh = [...fresh.filter((e) => e.seq > pass.cursors.events), ...this.fresh];
      if (pass.observations > 0) {
        await this.store.identity.apply({
          ...pass.changes,
          state: { ...pass.changes.state, salt: this.salt },
        });
        this.cursors = pass.cursors;
        this.forgetForeseen(pass.cursors.events);
      }
      // Traits declared or deleted (here or by another process) are recomputed for everyone; a
      // pass that touched most profiles (a first load) is also cheaper recomputed whole.
      const signature = JSON.stringify(await this.store.traits.list());
      const touched = pass.touchedProfiles;
      const redefined = signature !== this.traitSignature;
      const whole = touched.length > 20_000 || redefined;
      if (whole) {
        await this.traits.refresh();
        this.traitSignature = signature;
      } else if (touched.length > 0) {
        await this.traits.refresh(touched);
      }
      // Only records, identify calls and merges change attributes: other events leave them alone.
      const attributed = pass.attributeProfiles;
      await this.attributes.refresh(attributed.length > 20_000 ? undefined : attributed);
      // The profiles are named even when traits were recomputed whole for being many: only new
      // definitions change everyone's. Without computed traits, events leave values alone: only
      // records, identify calls and merges change them.
      const valued = redefined ? undefined : signature === '[]' ? attributed : touched;
      this.announce(redefined ? undefined : touched, pass.changes.moves, valued);
      return this.summary(pass, started);
    } catch (err) {
      await this.reload();
      throw err;
    }
  }

  /**
   * Recomputes every profile from the stored events and records (with `config` if given). Profile
   * ids are kept: a profile's id derives from its oldest identifier, so unchanged profiles keep
   * theirs, a merge keeps the older, and only a part that splits off gets a new one.
   */
  async rebuild(config?: unknown): Promise<StitchSummary> {
    return this.serialized(async () => {
      if (!(await this.claimWriter())) this.refuseUnlessWriter();
      const started = performance.now();
      const next =
        config === undefined ? this.config : parseOrThrow(IdentityConfigSchema, config, 'identity config');
      const previous = await this.previousProfiles();
      // Shared identifiers are found again in the same order as they were the first time, so a
      // rebuild with unchanged settings reproduces the incremental graph exactly.
      const graph = new IdentityGraph(next);
      const normalizer = new IdentifierNormalizer(next);
      // The new graph's ids get a cache of their own, kept only if the rebuild is stored.
      const cache = new Map<number, string>();
      const profileIdOf = (id: number) => this.profileIdIn(graph, id, cache);
      const pass = await runIdentityPass(this.store, graph, normalizer, next, profileIdOf, {
        events: 0,
        records: 0,
        auditSeq: 0,
      });
      const anchorOf = new Map(pass.changes.anchors.map((a) => [a.recordSeq, a.identifierId]));
      const replay = await replayMatches(
        this.store,
        graph,
        next,
        profileIdOf,
        pass.cursors.auditSeq,
        anchorOf,
      );
      // Replayed matches may have merged profiles further: settle every profile id again.
      const finalOf = (namespace: string, value: string) => {
        const id = graph.idOf(namespace, value);
        return id === undefined ? undefined : profileIdOf(graph.founderOf(id));
      };
      const identifiers = pass.changes.identifiers.map((i) => ({
        ...i,
        profileId: profileIdOf(graph.founderOf(i.id)),
      }));
      const aliases: ProfileAlias[] = [
        ...pass.changes.aliases,
        ...aliasesOf(replay.merged, graph, profileIdOf),
      ].map((a) => ({ ...a, profileId: finalOf(a.founderNamespace, a.founderValue) ?? a.profileId }));
      const aliased = new Set(aliases.map((a) => a.aliasId));
      const now = new Date();
      for (const old of previous) {
        const founder = graph.idOf(old.founderNamespace, old.founderValue);
        if (founder === undefined || aliased.has(old.aliasId)) continue;
        const profileId = profileIdOf(graph.founderOf(founder));
        if (profileId !== old.aliasId) aliases.push({ ...old, profileId, mergedAt: old.mergedAt ?? now });
      }
      await this.store.identity.apply(
        {
          ...pass.changes,
          identifiers,
          moves: [],
          aliases,
          audit: [...pass.changes.audit, ...replay.audit],
          state: {
            ...pass.changes.state,
            audit_seq: String(replay.auditSeq),
            salt: this.salt,
            config: JSON.stringify(next),
          },
        },
        { replace: true },
      );
      this.graph = graph;
      this.profileIds = cache;
      this.currentNormalizer = normalizer;
      this.config = next;
      this.cursors = { ...pass.cursors, auditSeq: replay.auditSeq };
      await this.traits.refresh();
      await this.attributes.refresh();
      this.announce(undefined, [], undefined, true);
      return this.summary(pass, started);
    });
  }

  /**
   * Runs the probabilistic rule set over the profile records (after stitching what is new):
   * matches above the threshold merge like deterministic links, guardrails included; pairs just
   * below it replace the previous review list.
   */
  async match(): Promise<MatchingSummary> {
    return this.serialized(async () => {
      if (!(await this.claimWriter())) this.refuseUnlessWriter();
      await this.catchUp();
      const profileIdOf = (id: number) => this.profileIdOf(id);
      const pass = await runMatchingPass(
        this.store,
        this.graph,
        this.currentNormalizer,
        this.config,
        profileIdOf,
        this.cursors.auditSeq,
      ).catch(async (err: unknown) => {
        await this.reload();
        throw err;
      });
      const aliases = aliasesOf(pass.merged, this.graph, profileIdOf);
      await this.persistOrReload({
        identifiers: [],
        moves: aliases.map((a) => ({ oldId: a.aliasId, newId: a.profileId })),
        aliases,
        anchors: [],
        audit: pass.audit,
        sharedIds: [],
        state: { audit_seq: String(pass.auditSeq) },
        matches: pass.matches,
        replaceReviews: true,
      });
      this.cursors = { ...this.cursors, auditSeq: pass.auditSeq };
      const touched = new Set(pass.touched.map((id) => this.profileIdOf(this.graph.founderOf(id))));
      for (const a of aliases) touched.add(a.aliasId);
      await this.traits.refresh([...touched]);
      await this.attributes.refresh([...touched]);
      this.announce(
        [...touched],
        aliases.map((a) => ({ oldId: a.aliasId, newId: a.profileId })),
      );
      return pass.summary;
    });
  }

  /** The profile id of the cluster whose founding identifier is `founder`. */
  profileIdOf(founder: number): string {
    return this.profileIdIn(this.graph, founder);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    clearInterval(this.poll);
    this.timer = undefined;
    while (this.running) await this.running;
    await this.lock?.release();
    this.lock = undefined;
  }

  private announce(
    profiles: readonly string[] | undefined,
    moves: ProfileChanges['moves'],
    valuesChanged = profiles,
    rebuilt = false,
  ): void {
    const changes: ProfileChanges = {
      eventsThrough: this.cursors.events,
      profiles,
      valuesChanged,
      moves,
      ...(rebuilt ? { rebuilt } : {}),
    };
    for (const listener of this.listeners) {
      try {
        listener(changes);
      } catch (err) {
        this.onError(err);
      }
    }
  }

  /** Writes what a pass changed; if that fails, the graph in memory is reloaded from the store. */
  private async persistOrReload(changes: IdentityChanges): Promise<void> {
    try {
      await this.store.identity.apply(changes);
    } catch (err) {
      await this.reload();
      throw err;
    }
  }

  /**
   * Makes the graph in memory what the store holds again (after a pass failed part way, its
   * changes in memory were never stored). If even that fails, the next pass tries again first.
   */
  private async reload(): Promise<void> {
    this.stale = true;
    this.fresh = [];
    this.offeredThrough = this.cursors.events;
    this.graph = new IdentityGraph(this.config);
    this.profileIds.clear();
    // The events foreseen past the cursor are read again by the next pass, to the same graph.
    this.forgetForeseen(this.cursors.events);
    await this.loadGraph();
    this.stale = false;
  }

  private profileIdIn(graph: IdentityGraph, founder: number, cache = this.profileIds): string {
    const cached = cache.get(founder);
    if (cached) return cached;
    const { namespace, value } = graph.identifier(founder);
    const id = profileIdFor(this.salt, namespace, value);
    cache.set(founder, id);
    return id;
  }

  private async serialized<T>(fn: () => Promise<T>): Promise<T> {
    while (this.running) await this.running;
    const run = fn();
    this.running = run.catch(() => {});
    try {
      return await run;
    } finally {
      this.running = undefined;
      // Writes that asked for a pass meanwhile get it now.
      if (this.again) {
        this.again = false;
        this.notify();
      }
    }
  }

  /** Reads the settings, cursors and graph as the store has them. */
  private async loadState(): Promise<void> {
    const state = await this.store.identity.state();
    this.config = parseOrThrow(IdentityConfigSchema, JSON.parse(state.config ?? '{}'), 'identity config');
    this.currentNormalizer = new IdentifierNormalizer(this.config);
    this.salt = state.salt ?? randomBytes(16).toString('hex');
    this.cursors = {
      events: Number(state.cursor_events ?? 0),
      records: Number(state.cursor_records ?? 0),
      auditSeq: Number(state.audit_seq ?? 0),
    };
    this.traitSignature = JSON.stringify(await this.store.traits.list());
    await this.reload();
  }

  /** True when this process is the writer, taking the role if the last writer let it go. */
  private async claimWriter(): Promise<boolean> {
    if (this.lock) return true;
    this.lock = await this.store.db.tryLock('identity');
    if (!this.lock) return false;
    // Another process wrote until now: start from what it stored.
    await this.loadState();
    return true;
  }

  private refuseUnlessWriter(): void {
    if (!this.lock) {
      throw new UserError(
        'identity_busy',
        'another Sluice process resolves identities for this store: rebuild or match there',
      );
    }
  }

  private async loadGraph(): Promise<void> {
    const firstOfProfile = new Map<string, number>();
    await this.store.identity.loadIdentifiers((rows) => {
      for (const row of rows) {
        const { id } = this.graph.intern({ namespace: row.namespace, value: row.value });
        if (id !== row.id)
          throw new Error(`identity graph: stored identifier ids are not dense at ${row.id}`);
        if (row.shared) this.graph.flag(id);
        const first = firstOfProfile.get(row.profileId);
        if (first === undefined) firstOfProfile.set(row.profileId, id);
        else this.graph.join(first, id);
      }
    });
    await this.store.identity.loadKeys((pairs) => {
      for (const p of pairs) this.graph.restoreKey(p.identifier_id, p.key_id);
    });
  }

  /** Every profile id in use (live ones and aliases) with the identifier it derives from. */
  private async previousProfiles(): Promise<(Omit<ProfileAlias, 'mergedAt'> & { mergedAt?: Date })[]> {
    const live = new Map<
      string,
      { aliasId: string; profileId: string; founderNamespace: string; founderValue: string }
    >();
    const founders = new Set<number>();
    for (let id = 0; id < this.graph.size; id++) founders.add(this.graph.founderOf(id));
    for (const founder of founders) {
      const { namespace, value } = this.graph.identifier(founder);
      const profileId = this.profileIdOf(founder);
      live.set(profileId, {
        aliasId: profileId,
        profileId,
        founderNamespace: namespace,
        founderValue: value,
      });
    }
    return [...live.values(), ...(await this.store.identity.aliases())];
  }

  private idle(started: number): StitchSummary {
    const seconds = (performance.now() - started) / 1000;
    const profiles = this.graph.profileCount();
    return {
      observations: 0,
      identifiers: this.graph.size,
      merges: 0,
      refusals: 0,
      flagged: 0,
      unusable: 0,
      profiles,
      seconds,
    };
  }

  private summary(pass: PassResult, started: number): StitchSummary {
    return {
      observations: pass.observations,
      identifiers: this.graph.size,
      merges: pass.merges,
      refusals: pass.refusals,
      flagged: pass.flagged,
      unusable: pass.unusable,
      profiles: this.graph.profileCount(),
      seconds: (performance.now() - started) / 1000,
    };
  }
}

/** A profile that the next pass is foreseen to found, and the identifier that founds it. */
export interface ProvisionalProfile {
  id: string;
  founder: Identifier;
}

const keyOf = (i: Identifier) => `${i.namespace}\u0000${i.value}`;

/** The id of the profile founded by an identifier (stable across rebuilds of the graph). */
function profileIdFor(salt: string, namespace: string, value: string): string {
  return `p_${createHash('sha256').update(`${salt}\u0000${namespace}:${value}`).digest('base64url').slice(0, 20)}`;
}
