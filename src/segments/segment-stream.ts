import type { StoredEvent } from '../core/index.js';
import type { LedgerChange, Store } from '../store/index.js';
import type { SegmentPlan } from './segment-plan.js';
import {
  type ChangeReason,
  type MembershipChange,
  type StreamEvent,
  StreamingEvaluator,
} from './streaming/streaming-evaluator.js';

/** What the identity service tells segments after each pass (see `IdentityService.subscribe`). */
export interface ProfileChanges {
  eventsThrough: number;
  profiles: readonly string[] | undefined;
  /** Of those, the ones whose attribute or trait values may have changed; undefined: any profile. */
  valuesChanged: readonly string[] | undefined;
  moves: readonly { oldId: string; newId: string }[];
  /** Identity's graph was built again: any profile may have split, merged or gone. */
  rebuilt?: boolean;
}

/** The part of identity resolution that streaming segments rely on. */
export interface ProfileResolver {
  readonly eventsStitchedThrough: number;
  profileOfEvent(
    userId: string | null | undefined,
    anonymousId: string | null | undefined,
  ): string | undefined;
  /** The profile an event belongs to if stitching cannot change it (see `IdentityService`). */
  settledProfileOfEvent(
    userId: string | null | undefined,
    anonymousId: string | null | undefined,
    seq?: number,
    event?: StoredEvent,
  ): string | undefined;
  /** The profile the next pass will found for an event of identifiers it has not seen, if known. */
  provisionalProfileOfEvent(seq: number, e: StoredEvent): ProvisionalProfile | undefined;
  /** Whether the pass founded that profile (for some of its events, at least). */
  isFounded(profile: ProvisionalProfile): boolean;
}

/** A profile the next stitching pass is foreseen to found, named by its founding identifier. */
export interface ProvisionalProfile {
  id: string;
  founder: { namespace: string; value: string };
}

interface OfferedEvent extends StreamEvent {
  userId: string | null;
  anonymousId: string | null;
  /** The event as stored, until it is looked at for evaluation on arrival. */
  stored: StoredEvent | undefined;
}

/** Most events kept in memory until identity has stitched them; past it they are read back. */
const MAX_BUFFER = 200_000;
/** Events read back per query, as a range of seqs. */
const PAGE = 200_000;
/** Longest sleep between timer checks (a timer further out is checked again then). */
const MAX_TIMER_MS = 60_000;
/**
 * Longest stretch of evaluation before the event loop gets a turn: the writer commits, identity
 * stitches and the ledger takes the changes evaluated so far while the rest of a pass waits.
 */
const SLICE_MS = 10;
/**
 * How often the members table is brought up to the ledger in the background. Each catch-up scans
 * the members whatever it applies, so it runs seldom; reads of the members catch up themselves.
 * Every second, at 10,000 events/s and 2 million memberships, it held back the ledger's writes
 * enough to raise a change's median latency two- to threefold (364 and 451 ms, against 132 and
 * 174 ms every 10 s; p99 2.2 and 1.8 s against 1.0 and 1.5 s); a read then applies up to 10 s of
 * changes first (0.5 s at that rate).
 */
const MEMBERS_EVERY_MS = 10_000;

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Streaming segments at work: events from the ingest writer wait until identity has stitched them,
 * then go through the evaluator in order; profile changes and merges reload what they touched;
 * timers close windows; every change is written to the ledger in small batches.
 */
export class SegmentStream {
  private evaluator: StreamingEvaluator;
  private buffer: OfferedEvent[] = [];
  private offeredThrough = 0;
  private cursor = 0;
  /**
   * Events evaluated as soon as they were offered (their profile settled or provisional), by seq,
   * with that profile: skipped when identity has stitched them, unless a merge took the profile.
   */
  private readonly early = new Map<number, string>();
  /**
   * Of those, the events of a new visitor, evaluated for the profile identity's pass was to found
   * for them (by seq): checked once stitched, since something else in the pass may link them to
   * another profile.
   */
  private readonly provisional = new Map<
    number,
    { profile: ProvisionalProfile; userId: string | null; anonymousId: string | null }
  >();
  /** The last offered seq looked at for evaluation on arrival. */
  private earlyThrough = 0;
  private earlyQueued = false;
  private work: Promise<void> = Promise.resolve();
  private pending: LedgerChange[] = [];
  private flushing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private membersTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly store: Store,
    private readonly identity: ProfileResolver,
    private plan: SegmentPlan,
    private streaming: number[],
    private readonly now: () => number,
    private readonly onError: (err: unknown) => void,
    private readonly onRecorded: (changes: readonly LedgerChange[]) => void,
  ) {
    this.evaluator = new StreamingEvaluator(plan, streaming);
  }

  /** Loads the state of every profile from the store and records what differs from the stored members. */
  start(): Promise<void> {
    return this.enqueue(() => this.load());
  }

  /** Starts again over new definitions (a segment was created, changed or deleted). */
  restart(plan: SegmentPlan, streaming: number[]): Promise<void> {
    return this.enqueue(async () => {
      this.plan = plan;
      this.streaming = streaming;
      await this.loadAfresh();
    });
  }

  /** Forgets the state and loads it from the store again (over the definitions current then). */
  private loadAfresh(): Promise<void> {
    this.evaluator = new StreamingEvaluator(this.plan, this.streaming);
    return this.load();
  }

  /** Events the ingest writer just stored, numbered from `firstSeq`. */
  offer(firstSeq: number, events: readonly StoredEvent[]): void {
    if (this.closed) return;
    if (firstSeq !== this.offeredThrough + 1 || this.buffer.length + events.length > MAX_BUFFER)
      this.buffer = [];
    if (events.length <= MAX_BUFFER) {
      for (const [i, e] of events.entries()) {
        this.buffer.push({
          seq: firstSeq + i,
          messageId: e.messageId,
          event: e.event,
          timestamp: e.timestamp.getTime(),
          properties: e.properties ?? {},
          userId: e.userId,
          anonymousId: e.anonymousId,
          stored: e,
        });
      }
    }
    this.offeredThrough = firstSeq + events.length - 1;
    if (!this.earlyQueued) {
      this.earlyQueued = true;
      void this.enqueue(() => this.evaluateOnArrival());
    }
  }

  /**
   * Evaluates offered events whose profile no stitching can change without waiting for identity's
   * pass (it stores the links first, then announces), and those of new visitors for the profile the
   * pass is to found: only an event that links identifiers to a known profile waits.
   */
  private async evaluateOnArrival(): Promise<void> {
    this.earlyQueued = false;
    const ev = this.evaluator;
    const now = this.now();
    const out: MembershipChange[] = [];
    // What was offered so far: later offers queue another turn, after the passes queued meanwhile.
    const until = this.offeredThrough;
    for (;;) {
      const sliceStart = performance.now();
      const first = this.buffer[0]?.seq ?? 0;
      let i = Math.max(0, Math.max(this.cursor, this.earlyThrough) + 1 - first);
      let sliced = false;
      for (; i < this.buffer.length && this.buffer[i]!.seq <= until && !sliced; i++) {
        const e = this.buffer[i]!;
        this.earlyThrough = e.seq;
        const profileId = this.arrivalProfile(e);
        if (profileId === undefined) continue;
        this.early.set(e.seq, profileId);
        for (const c of ev.applyEvent(profileId, e, now)) out.push(c);
        sliced = i % 64 === 63 && performance.now() - sliceStart > SLICE_MS;
      }
      this.record(out.splice(0));
      if (!sliced) return;
      // Offers go on meanwhile (and may start the buffer again): it is read again after the turn.
      await nextTurn();
      if (ev !== this.evaluator) return;
    }
  }

  /**
   * The profile an offered event not yet stitched is evaluated for on arrival: the settled one, or
   * the one identity's pass is foreseen to found (asked once, when the event is first looked at).
   */
  private arrivalProfile(e: OfferedEvent): string | undefined {
    const stored = e.stored;
    e.stored = undefined;
    const settled = this.identity.settledProfileOfEvent(e.userId, e.anonymousId, e.seq, stored);
    if (settled !== undefined) {
      // Looked at again (the state was loaded again) after a pass stitched its identifiers.
      this.provisional.delete(e.seq);
      return settled;
    }
    const foreseen = this.provisional.get(e.seq)?.profile;
    if (foreseen !== undefined || stored === undefined) return foreseen?.id;
    const profile = this.identity.provisionalProfileOfEvent(e.seq, stored);
    if (profile === undefined) return undefined;
    this.provisional.set(e.seq, { profile, userId: e.userId, anonymousId: e.anonymousId });
    return profile.id;
  }

  /** Identity finished a pass: evaluate what it stitched (all of it again after a rebuild). */
  onProfiles(changes: ProfileChanges): void {
    if (this.closed) return;
    void this.enqueue(() => (changes.rebuilt ? this.loadAfresh() : this.process(changes)));
  }

  /** Runs the timers due now (the service's clock), e.g. after a test moved its clock. */
  tick(): Promise<void> {
    return this.enqueue(async () => this.record(this.evaluator.runTimers(this.now())));
  }

  /** Waits until everything handed over so far is evaluated and in the ledger. */
  async settle(): Promise<void> {
    await this.work;
    await this.drain();
  }

  isMember(segmentIndex: number, profileId: string): boolean {
    return this.evaluator.isMember(segmentIndex, profileId);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    clearTimeout(this.membersTimer);
    await this.settle().catch(() => {});
    await this.store.memberships.applyToMembers().catch(this.onError);
  }

  private enqueue(fn: () => Promise<void>): Promise<void> {
    const run = this.work.then(fn);
    this.work = run.then(
      () => this.scheduleTimer(),
      (err: unknown) => {
        this.onError(err);
        this.scheduleTimer();
      },
    );
    return run;
  }

  private async load(): Promise<void> {
    // The stored members must include the changes already decided (by a timer, say), or they
    // would be decided and recorded again.
    await this.drain();
    const ev = this.evaluator;
    const now = this.now();
    // Read first: a pass that commits while the profiles are read founds its profiles for events
    // past `through`, looked at below as any offered since.
    const through = this.identity.eventsStitchedThrough;
    await this.store.memberships.profileIds((ids) => {
      for (const id of ids) ev.addProfile(id);
    });
    const ids = this.streaming.map((i) => this.plan.segments[i]!.id);
    const indexOf = new Map(this.streaming.map((i) => [this.plan.segments[i]!.id, i]));
    // Members of a profile identity has not founded: a new visitor's, evaluated on arrival for the
    // profile its pass was foreseen to found (here or in a process before this one).
    const unfounded = new Set<string>();
    await this.store.memberships.membersOf(ids, (rows) => {
      for (const r of rows) {
        if (!ev.hasProfile(r.profile_id)) unfounded.add(r.profile_id);
        ev.restoreMember(indexOf.get(r.segment_id)!, r.profile_id);
      }
    });
    if (ev.readsValues) for (const [id, values] of await this.values(undefined)) ev.loadValues(id, values);
    await this.readEvents(0, through, undefined, (profileId, e) => {
      unfounded.delete(profileId);
      ev.load(profileId, e, now);
    });
    this.cursor = through;
    this.buffer = this.buffer.filter((e) => e.seq > through);
    // Events offered after `through` are not in the store's part of the state. Those evaluated on
    // arrival before are loaded too, so that the state holds what the members do before the two
    // are compared (else their profiles would leave and enter again); the others are evaluated
    // after, each the reason of what it changes.
    const lookedAt = this.earlyThrough;
    this.early.clear();
    for (const seq of this.provisional.keys()) if (seq <= through) this.provisional.delete(seq);
    this.earlyThrough = through;
    for (const e of this.buffer) {
      if (e.seq > lookedAt) break;
      this.earlyThrough = e.seq;
      const profileId = this.arrivalProfile(e);
      if (profileId === undefined) continue;
      this.early.set(e.seq, profileId);
      unfounded.delete(profileId);
      ev.load(profileId, e, now);
    }
    // The rest were foreseen for events the pass gave other profiles, or merged away while no
    // stream ran: they are gone.
    const gone: MembershipChange[] = [];
    for (const id of unfounded) gone.push(...ev.removeProfile(id, now, { kind: 'recomputed' }));
    this.record([...gone, ...ev.reevaluateAll(now, { kind: 'recomputed' })]);
    if (this.buffer.length > 0) await this.evaluateOnArrival();
  }

  private async process(changes: ProfileChanges): Promise<void> {
    const ev = this.evaluator;
    const now = this.now();
    const out: MembershipChange[] = [];
    const mispredicted = this.mispredicted(changes.eventsThrough);
    const moves = [...changes.moves, ...mispredicted.moves];
    const reload = new Set<string>(mispredicted.reload);
    for (const m of moves) {
      out.push(...ev.removeProfile(m.oldId, now, { kind: 'merge', into: m.newId }));
      reload.add(m.newId);
    }
    for (const id of reload) ev.clearState(id);
    // A profile merged away or loaded again lost what was evaluated on arrival: evaluated again
    // below (from the store, for the reloaded) or when stitched.
    const gone = new Set(moves.map((m) => m.oldId));
    if (reload.size > 0) {
      const lost = (id: string) => gone.has(id) || reload.has(id);
      for (const [seq, id] of this.early) if (lost(id)) this.early.delete(seq);
      for (const [seq, p] of this.provisional) if (lost(p.profile.id)) this.provisional.delete(seq);
    }
    const through = changes.eventsThrough;
    const apply = (profileId: string, e: StreamEvent) => {
      if (this.early.delete(e.seq)) return;
      if (!reload.has(profileId)) out.push(...ev.applyEvent(profileId, e, now));
    };
    let sliceStart = performance.now();
    while (this.cursor < through) {
      const next = this.buffer[0];
      if (next && next.seq === this.cursor + 1) {
        let i = 0;
        while (i < this.buffer.length && this.buffer[i]!.seq <= through) {
          const e = this.buffer[i++]!;
          // Most were evaluated on arrival: skipped without looking up their profile.
          if (!this.early.delete(e.seq)) {
            const profileId = this.identity.profileOfEvent(e.userId, e.anonymousId);
            if (profileId) apply(profileId, e);
          }
          if (i % 64 === 0 && performance.now() - sliceStart > SLICE_MS) break;
        }
        this.cursor = this.buffer[i - 1]!.seq;
        this.buffer.splice(0, i);
        if (this.cursor < through && performance.now() - sliceStart > SLICE_MS) {
          // The buffer may change meanwhile (offers go on): it is read again after the turn.
          this.record(out.splice(0));
          await nextTurn();
          sliceStart = performance.now();
        }
      } else {
        // Not offered here (an import, another process): read them back.
        const until = Math.min(through, next ? next.seq - 1 : through);
        await this.readEvents(this.cursor, until, undefined, apply);
        this.cursor = until;
        this.buffer = this.buffer.filter((e) => e.seq > until);
      }
    }
    // Events through `through` are all evaluated: those of names no segment reads were not read back.
    for (const seq of this.early.keys()) {
      if (seq > through) break;
      this.early.delete(seq);
    }
    if (reload.size > 0) {
      const ids = [...reload];
      const values = ev.readsValues ? await this.values(ids) : new Map<string, Map<number, unknown>>();
      await this.readEvents(0, through, ids, (profileId, e) => ev.load(profileId, e, now));
      for (const id of ids) {
        ev.loadValues(id, values.get(id) ?? new Map());
        out.push(...ev.reevaluateProfile(id, now, { kind: 'merge', into: id }));
      }
    }
    // A pass lists the profiles merged away among those it touched: they are gone, not new.
    const kept = (id: string) => !reload.has(id) && !gone.has(id);
    const touched = changes.profiles?.filter(kept);
    const valued = changes.valuesChanged?.filter(kept);
    if (ev.readsValues && (valued === undefined || valued.length > 0)) {
      const values = await this.values(valued);
      for (const id of valued ?? values.keys())
        out.push(...ev.applyValues(id, values.get(id) ?? new Map(), now));
    }
    // New profiles whose values did not change: the segments they are in with no values.
    for (const id of touched ?? []) out.push(...ev.touchProfile(id, now));
    out.push(...ev.runTimers(now));
    this.record(out);
  }

  /**
   * New visitors' events that identity's pass through `through` gave a profile other than the one
   * foreseen (a record or another event in it linked their identifiers elsewhere). The profile the
   * pass gave them is loaded again, and so is the foreseen one if the pass founded it (for other
   * events); one it did not found leaves its segments as merged into the first.
   */
  private mispredicted(through: number): { moves: { oldId: string; newId: string }[]; reload: string[] } {
    const reload = new Set<string>();
    const moves = new Map<string, string>();
    for (const [seq, p] of this.provisional) {
      if (seq > through) continue;
      this.provisional.delete(seq);
      const actual = this.identity.profileOfEvent(p.userId, p.anonymousId);
      // Identity stitches every event it foresaw a profile for, unless a rebuild changed its settings.
      if (actual === undefined || actual === p.profile.id) continue;
      reload.add(actual);
      if (this.identity.isFounded(p.profile)) reload.add(p.profile.id);
      else moves.set(p.profile.id, actual);
    }
    return { moves: [...moves].map(([oldId, newId]) => ({ oldId, newId })), reload: [...reload] };
  }

  /** Reads stitched events of the names the evaluator needs, seq in (`after`, `through`]. */
  private async readEvents(
    after: number,
    through: number,
    profileIds: readonly string[] | undefined,
    each: (profileId: string, e: StreamEvent) => void,
  ): Promise<void> {
    const names = this.evaluator.eventNames;
    const paths = propertyPaths(this.plan);
    for (let from = after; from < through; from += PAGE) {
      const until = Math.min(through, from + PAGE);
      const rows = await this.store.memberships.events(names, from, until, paths, profileIds);
      for (const r of rows) each(r.profileId, { ...r, timestamp: r.timestamp.getTime() });
    }
  }

  /** Attribute and trait values by profile, keyed by the plan's value features. */
  private async values(
    profileIds: readonly string[] | undefined,
  ): Promise<Map<string, Map<number, unknown>>> {
    const feature = new Map(this.plan.values.map((v, i) => [`${v.source === 'trait'}:${v.name}`, i]));
    const byProfile = new Map<string, Map<number, unknown>>();
    for (const id of profileIds ?? []) byProfile.set(id, new Map());
    const named = (source: 'attribute' | 'trait') =>
      this.plan.values.filter((v) => v.source === source).map((v) => v.name);
    const names = { attributes: named('attribute'), traits: named('trait') };
    for (const r of await this.store.attributes.valuesOf(profileIds, names)) {
      const i = feature.get(`${r.trait}:${r.name}`);
      if (i === undefined) continue;
      let values = byProfile.get(r.profile_id);
      if (!values) {
        values = new Map();
        byProfile.set(r.profile_id, values);
      }
      values.set(i, r.value === null ? null : JSON.parse(r.value));
    }
    return byProfile;
  }

  private record(changes: readonly MembershipChange[]): void {
    if (changes.length === 0) return;
    // Changes decided together share their time: one Date for all of them.
    let at = new Date(changes[0]!.at);
    for (const c of changes) {
      if (c.at !== at.getTime()) at = new Date(c.at);
      this.pending.push({
        segmentId: this.plan.segments[c.segment]!.id,
        profileId: c.profileId,
        entered: c.entered,
        at,
        reason: c.reason as ChangeReason & Record<string, unknown>,
      });
    }
    if (!this.flushing) void this.flush();
  }

  /** Waits until every change recorded so far is in the ledger. */
  private async drain(): Promise<void> {
    while (this.flushing || this.pending.length > 0) await (this.flushing ?? this.flush());
  }

  /** Writes what is pending to the ledger, one batch at a time; a failed batch is tried again. */
  private flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    this.flushing = this.store.memberships
      .record(batch, 'streaming')
      .then(
        () => {
          this.onRecorded(batch);
          this.scheduleMembers();
        },
        (err: unknown) => {
          this.pending = [...batch, ...this.pending];
          this.onError(err);
          return new Promise<void>((resolve) => setTimeout(resolve, 1000));
        },
      )
      .finally(() => {
        this.flushing = undefined;
        if (this.pending.length > 0 && !this.closed) void this.flush();
      });
    return this.flushing;
  }

  /** Applies the ledger to the members table a while after the first change not yet applied. */
  private scheduleMembers(): void {
    if (this.membersTimer || this.closed) return;
    this.membersTimer = setTimeout(() => {
      this.membersTimer = undefined;
      this.store.memberships.applyToMembers().catch(this.onError);
    }, MEMBERS_EVERY_MS);
    this.membersTimer.unref();
  }

  private scheduleTimer(): void {
    clearTimeout(this.timer);
    if (this.closed) return;
    const due = this.evaluator.nextDue;
    if (due === Number.POSITIVE_INFINITY) return;
    const wait = Math.max(0, Math.min(MAX_TIMER_MS, due - this.now()));
    this.timer = setTimeout(() => void this.tick(), wait);
    this.timer.unref();
  }
}

/** The event properties a plan reads (filters and aggregated properties), as paths. */
function propertyPaths(plan: SegmentPlan): string[][] {
  const paths = new Set<string>();
  const where = (filters: readonly { property: string }[] | undefined) => {
    for (const f of filters ?? []) paths.add(f.property);
  };
  for (const f of plan.events) {
    where(f.where);
    if (f.property !== undefined) paths.add(f.property);
  }
  for (const q of plan.sequences) {
    where(q.first.where);
    where(q.next.where);
  }
  return [...paths].map((p) => p.split('.'));
}
