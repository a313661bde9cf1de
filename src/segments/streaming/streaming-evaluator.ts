import { assertNever, type ValueTest } from '../../core/index.js';
import { type PlanNode, type SegmentPlan, zeroWhenNone } from '../segment-plan.js';
import { numberOf, testNumber, testValue, textOf, valueAt, valueTestNextChange } from '../value-test.js';
import { EventAggregateState } from './event-aggregate-state.js';
import { ENTERS_ONLY, EXITS_ONLY, eventDirections } from './event-direction.js';
import { type EventRoutes, routeEvents } from './event-routes.js';
import { type AggregatedValue, MatchedEvents } from './matched-events.js';
import { SequenceState } from './sequence-state.js';
import { TimerQueue } from './timer-queue.js';

/** An event as the evaluator needs it (`timestamp` in epoch ms). */
export interface StreamEvent {
  seq: number;
  messageId: string;
  event: string | null;
  timestamp: number;
  properties: Record<string, unknown>;
}

/** What flipped a membership. */
export type ChangeReason =
  | { kind: 'event'; event: string; messageId: string; seq: number }
  | { kind: 'time' }
  | { kind: 'profile' }
  | { kind: 'merge'; into: string }
  /** The state was computed again: at start, or after the segment definitions changed. */
  | { kind: 'recomputed' }
  | { kind: 'evaluation' };

export interface MembershipChange {
  /** The segment's index in the plan. */
  segment: number;
  profileId: string;
  entered: boolean;
  at: number;
  reason: ChangeReason;
}

/** Whether a profile's state satisfies a segment's condition at `now`. */
type Condition = (p: ProfileState, now: number) => boolean;

/**
 * One profile's state: its features in arrays indexed by feature (or log) number, and its
 * memberships in a bit set of a few words instead of a Set of its segments.
 */
class ProfileState {
  /** Windowed event features' matched events, by log (see `routeEvents`); empty until one is fed. */
  logs: (MatchedEvents | undefined)[] = NONE;
  /** Event features over all time or fixed dates, by feature. */
  totals: (EventAggregateState | undefined)[] = NONE;
  sequences: (SequenceState | undefined)[] = NONE;
  values = new Map<number, unknown>();
  /** Bit `s` set: a member of the segment at index `s` in the plan. */
  readonly members: Uint32Array;
  due = Number.POSITIVE_INFINITY;

  constructor(segments: number) {
    this.members = new Uint32Array((segments + 31) >>> 5);
  }

  isMember(segment: number): boolean {
    return (this.members[segment >>> 5]! & (1 << (segment & 31))) !== 0;
  }

  setMember(segment: number, member: boolean): void {
    if (member) this.members[segment >>> 5]! |= 1 << (segment & 31);
    else this.members[segment >>> 5]! &= ~(1 << (segment & 31));
  }

  /** The segments it is a member of, by index. */
  memberships(): number[] {
    const out: number[] = [];
    for (let w = 0; w < this.members.length; w++) {
      for (let bits = this.members[w]!; bits !== 0; bits &= bits - 1) {
        out.push((w << 5) + (31 - Math.clz32(bits & -bits)));
      }
    }
    return out;
  }
}

/** The shared empty feature list of a profile with none (replaced by its own on the first). */
const NONE: never[] = [];

/**
 * Keeps the memberships of streaming segments current without SQL: per profile, incremental state
 * for each feature the segments read (aggregates per window, sequence steps, attribute values),
 * re-evaluated for the segments an event, a profile change or a timer affects. Timers close
 * windows: a profile leaves "in the last 7 days" 7 days after its last event with nothing else
 * happening.
 */
export class StreamingEvaluator {
  private readonly profiles = new Map<string, ProfileState>();
  private readonly timers = new TimerQueue();
  private readonly routes: EventRoutes;
  /** Per event feature, the path of the property its running totals read. */
  private readonly propertyPaths: (readonly string[] | undefined)[];
  /** The segments that read each log, event feature and sequence (fixed lists, iterated per event). */
  private readonly logSegments: number[][];
  private readonly eventSegments: number[][];
  private readonly sequenceSegments: number[][];
  /** Per event name, per segment, which way one more such event can move its condition. */
  private readonly directions: Map<string, Int8Array>;
  /** Whether each filter list of the event being absorbed passed (by index in its route). */
  private passed: boolean[] = [];
  /** Segments already listed for the event being absorbed (`seen[s] === stamp`). */
  private readonly seen: Uint32Array;
  /** The segments the event last absorbed may have moved (see `absorb`). */
  private readonly affected: number[] = [];
  /** The values of a log's columns an event carries, as it is added to the log. */
  private readonly columnValues: AggregatedValue[] = [];
  private stamp = 0;
  /** Event feature values computed for the profile being tested (`cached[f] === testStamp`). */
  private readonly cached: Uint32Array;
  private readonly cachedValues: (number | null)[];
  private testStamp = 0;
  /** The streaming segments' conditions, by segment index in the plan. */
  private readonly conditions: (Condition | undefined)[] = [];
  private readonly ofEvent: Set<number>[];
  private readonly ofSequence: Set<number>[];
  private readonly ofValues = new Set<number>();
  private readonly timed = new Set<number>();
  /** `ofValues` and `timed` as lists, iterated per change and per timer. */
  private readonly valueSegments: readonly number[];
  private readonly timedSegments: readonly number[];
  /** Time tests on values, which schedule timers. */
  private readonly valueTimers: { feature: number; test: ValueTest }[] = [];

  constructor(
    private readonly plan: SegmentPlan,
    /** Indices (in `plan.segments`) of the segments kept here. */
    readonly streaming: readonly number[],
  ) {
    this.ofEvent = plan.events.map(() => new Set());
    this.ofSequence = plan.sequences.map(() => new Set());
    const usedEvents = new Set<number>();
    const usedSequences = new Set<number>();
    for (const s of streaming) {
      this.collect(plan.segments[s]!.node, s, usedEvents, usedSequences);
    }
    this.routes = routeEvents(plan, usedEvents, usedSequences, this.ofEvent);
    this.logSegments = this.routes.logs.map((l) => [...l.segments]);
    this.eventSegments = this.ofEvent.map((s) => [...s]);
    this.sequenceSegments = this.ofSequence.map((s) => [...s]);
    this.directions = eventDirections(plan, streaming);
    this.valueSegments = [...this.ofValues];
    this.timedSegments = [...this.timed];
    for (const s of streaming) this.conditions[s] = this.compile(plan.segments[s]!.node);
    this.propertyPaths = plan.events.map((f) => f.property?.split('.'));
    this.seen = new Uint32Array(plan.segments.length);
    this.cached = new Uint32Array(plan.events.length);
    this.cachedValues = plan.events.map(() => null);
  }

  /** Event names that matter to some streaming segment. */
  get eventNames(): string[] {
    return [...this.routes.byEvent.keys()];
  }

  /** Whether any streaming segment reads attributes or traits. */
  get readsValues(): boolean {
    return this.ofValues.size > 0;
  }

  get profileCount(): number {
    return this.profiles.size;
  }

  /** The profiles in a segment (by index in the plan). */
  *membersOf(segment: number): Generator<string> {
    for (const [id, p] of this.profiles) if (p.isMember(segment)) yield id;
  }

  isMember(segment: number, profileId: string): boolean {
    return this.profiles.get(profileId)?.isMember(segment) ?? false;
  }

  /** Records memberships as stored, before `reevaluateAll` compares them with the state. */
  restoreMember(segment: number, profileId: string): void {
    this.state(profileId).setMember(segment, true);
  }

  hasProfile(profileId: string): boolean {
    return this.profiles.has(profileId);
  }

  /** Makes a profile known (so that segments true without events, such as "did not buy", include it). */
  addProfile(profileId: string): void {
    this.state(profileId);
  }

  /** A profile seen for the first time: the segments it is in with no events yet. */
  touchProfile(profileId: string, now: number): MembershipChange[] {
    if (this.profiles.has(profileId)) return [];
    return this.reevaluate(profileId, this.state(profileId), this.streaming, now, { kind: 'profile' });
  }

  /** Forgets a profile's events and values but not its memberships (before loading them again). */
  clearState(profileId: string): void {
    const old = this.profiles.get(profileId);
    const p = new ProfileState(this.plan.segments.length);
    if (old) p.members.set(old.members);
    this.profiles.set(profileId, p);
  }

  /** Re-evaluates one profile against every streaming segment (after its state was loaded again). */
  reevaluateProfile(profileId: string, now: number, reason: ChangeReason): MembershipChange[] {
    return this.reevaluate(profileId, this.state(profileId), this.streaming, now, reason);
  }

  /** Adds an event to the state without evaluating (loading the state at start). */
  load(profileId: string, e: StreamEvent, now: number): void {
    this.absorb(this.state(profileId), e, now);
  }

  /** Replaces a profile's attribute and trait values (by value feature index) without evaluating. */
  loadValues(profileId: string, values: Map<number, unknown>): void {
    this.state(profileId).values = values;
  }

  /** An event arrived for a profile: the memberships it flips. */
  applyEvent(profileId: string, e: StreamEvent, now: number): MembershipChange[] {
    const state = this.profiles.get(profileId);
    const reason: ChangeReason = { kind: 'event', event: e.event ?? '', messageId: e.messageId, seq: e.seq };
    if (state === undefined) {
      const p = this.state(profileId);
      this.absorb(p, e, now);
      return this.reevaluate(profileId, p, this.streaming, now, reason);
    }
    const due = this.absorb(state, e, now);
    const changes: MembershipChange[] = [];
    const directions = e.event === null ? undefined : this.directions.get(e.event);
    this.test(profileId, state, this.affected, now, reason, changes, directions);
    // Only the features the event fed can have come due sooner: the others are as scheduled.
    if (due < state.due) {
      state.due = due;
      this.timers.push(due, profileId);
    }
    return changes;
  }

  /** A profile's attributes or traits changed. */
  applyValues(profileId: string, values: Map<number, unknown>, now: number): MembershipChange[] {
    const fresh = !this.profiles.has(profileId);
    const p = this.state(profileId);
    p.values = values;
    const segments = fresh ? this.streaming : this.valueSegments;
    return this.reevaluate(profileId, p, segments, now, { kind: 'profile' });
  }

  /** A profile is gone (merged into another): it leaves every segment. */
  removeProfile(profileId: string, now: number, reason: ChangeReason): MembershipChange[] {
    const p = this.profiles.get(profileId);
    if (!p) return [];
    this.profiles.delete(profileId);
    return p.memberships().map((segment) => ({ segment, profileId, entered: false, at: now, reason }));
  }

  /** Every profile against every streaming segment (after loading, or after a definition changed). */
  reevaluateAll(now: number, reason: ChangeReason): MembershipChange[] {
    const changes: MembershipChange[] = [];
    for (const [id, p] of this.profiles) changes.push(...this.reevaluate(id, p, this.streaming, now, reason));
    return changes;
  }

  /** When the next timer is due (`Infinity`: none). */
  get nextDue(): number {
    return this.timers.peek();
  }

  /** Re-evaluates the profiles whose windows closed (or opened) by `now`. */
  runTimers(now: number): MembershipChange[] {
    const changes: MembershipChange[] = [];
    while (this.timers.peek() <= now) {
      const { due, id } = this.timers.pop()!;
      const p = this.profiles.get(id);
      if (!p || p.due !== due) continue;
      p.due = Number.POSITIVE_INFINITY;
      changes.push(...this.reevaluate(id, p, this.timedSegments, now, { kind: 'time' }));
    }
    return changes;
  }

  private state(profileId: string): ProfileState {
    let p = this.profiles.get(profileId);
    if (!p) {
      p = new ProfileState(this.plan.segments.length);
      this.profiles.set(profileId, p);
    }
    return p;
  }

  /**
   * Adds an event to the features it matches: the segments to look at again are then in
   * `affected`, and the earliest time one of the features it fed changes with no further event is
   * returned. Called for every event: it allocates nothing but the state it grows.
   */
  private absorb(p: ProfileState, e: StreamEvent, now: number): number {
    const affected = this.affected;
    affected.length = 0;
    let due = Number.POSITIVE_INFINITY;
    const route = e.event === null ? undefined : this.routes.byEvent.get(e.event);
    if (!route) return due;
    const passed = this.passed;
    for (let i = 0; i < route.filters.length; i++) {
      let ok = true;
      for (const f of route.filters[i]!) {
        if (!testValue(f.test, valueAt(e.properties, f.path), now)) {
          ok = false;
          break;
        }
      }
      passed[i] = ok;
    }
    const stamp = this.nextStamp();
    for (const t of route.targets) {
      if (!passed[t.where]) continue;
      switch (t.kind) {
        case 'log': {
          const plan = this.routes.logs[t.log]!;
          if (p.logs === NONE) p.logs = new Array(this.routes.logs.length);
          let log = p.logs[t.log];
          if (!log) {
            log = new MatchedEvents(plan.columns.length);
            p.logs[t.log] = log;
          }
          const values = this.columnValues;
          for (let c = 0; c < plan.columns.length; c++) {
            const column = plan.columns[c]!;
            const raw = valueAt(e.properties, column.path);
            values[c] = column.as === 'text' ? textOf(raw) : numberOf(raw);
          }
          log.add(e.timestamp, values, now - plan.spans[plan.spans.length - 1]!);
          due = Math.min(due, log.nextChange(now, plan.spans));
          this.list(this.logSegments[t.log]!, stamp);
          break;
        }
        case 'totals': {
          const f = this.plan.events[t.feature]!;
          if (p.totals === NONE) p.totals = new Array(this.plan.events.length);
          let s = p.totals[t.feature];
          if (!s) {
            s = new EventAggregateState(f);
            p.totals[t.feature] = s;
          }
          const path = this.propertyPaths[t.feature];
          const raw = path === undefined ? null : valueAt(e.properties, path);
          s.add(
            e.timestamp,
            f.fn === 'count' ? null : f.fn === 'distinct_count' ? textOf(raw) : numberOf(raw),
            now,
          );
          this.list(this.eventSegments[t.feature]!, stamp);
          break;
        }
        case 'first':
        case 'next': {
          if (p.sequences === NONE) p.sequences = new Array(this.plan.sequences.length);
          let s = p.sequences[t.feature];
          if (!s) {
            s = new SequenceState(this.plan.sequences[t.feature]!);
            p.sequences[t.feature] = s;
          }
          if (t.kind === 'first') s.addFirst(e.timestamp, e.seq, now);
          else s.addThen(e.timestamp, e.seq, now);
          due = Math.min(due, s.nextChange(now));
          this.list(this.sequenceSegments[t.feature]!, stamp);
          break;
        }
        default:
          assertNever(t);
      }
    }
    return due;
  }

  /** Adds to `affected` the segments not listed yet for the event being absorbed. */
  private list(segments: readonly number[], stamp: number): void {
    const seen = this.seen;
    const affected = this.affected;
    for (let i = 0; i < segments.length; i++) {
      const seg = segments[i]!;
      if (seen[seg] === stamp) continue;
      seen[seg] = stamp;
      affected.push(seg);
    }
  }

  private nextStamp(): number {
    if (this.stamp === 0xffffffff) {
      this.seen.fill(0);
      this.stamp = 0;
    }
    return ++this.stamp;
  }

  private reevaluate(
    profileId: string,
    p: ProfileState,
    segments: readonly number[],
    now: number,
    reason: ChangeReason,
  ): MembershipChange[] {
    const changes: MembershipChange[] = [];
    this.test(profileId, p, segments, now, reason, changes);
    this.schedule(profileId, p, now);
    return changes;
  }

  /** Tests `segments` for a profile, adding the memberships that flip to `changes`. */
  private test(
    profileId: string,
    p: ProfileState,
    segments: readonly number[],
    now: number,
    reason: ChangeReason,
    changes: MembershipChange[],
    /** How the event being applied can move each segment: those it cannot flip are not tested. */
    directions?: Int8Array,
  ): void {
    this.testStamp = this.testStamp === 0xffffffff ? 1 : this.testStamp + 1;
    if (this.testStamp === 1) this.cached.fill(0);
    for (let i = 0; i < segments.length; i++) {
      const s = segments[i]!;
      const was = p.isMember(s);
      const direction = directions?.[s];
      if ((direction === ENTERS_ONLY && was) || (direction === EXITS_ONLY && !was)) continue;
      const member = this.conditions[s]!(p, now);
      if (member === was) continue;
      p.setMember(s, member);
      changes.push({ segment: s, profileId, entered: member, at: now, reason });
    }
  }

  private schedule(profileId: string, p: ProfileState, now: number): void {
    let due = Number.POSITIVE_INFINITY;
    for (let i = 0; i < p.logs.length; i++) {
      const log = p.logs[i];
      if (log === undefined) continue;
      const plan = this.routes.logs[i]!;
      log.expire(now - plan.spans[plan.spans.length - 1]!);
      if (log.size === 0) p.logs[i] = undefined;
      else due = Math.min(due, log.nextChange(now, plan.spans));
    }
    for (const s of p.sequences) if (s !== undefined) due = Math.min(due, s.nextChange(now));
    for (const t of this.valueTimers)
      due = Math.min(due, valueTestNextChange(t.test, p.values.get(t.feature), now));
    if (due === p.due || due === Number.POSITIVE_INFINITY) return;
    p.due = due;
    this.timers.push(due, profileId);
  }

  /** A segment's condition as a function of a profile's state (built once, called per test). */
  private compile(n: PlanNode): Condition {
    switch (n.kind) {
      case 'all':
      case 'any': {
        const parts = n.nodes.map((x) => this.compile(x));
        const all = n.kind === 'all';
        return (p, now) => {
          for (const part of parts) if (part(p, now) !== all) return !all;
          return all;
        };
      }
      case 'not': {
        const inner = this.compile(n.node);
        return (p, now) => !inner(p, now);
      }
      case 'value': {
        const { feature, test } = n;
        return (p, now) => testValue(test, p.values.get(feature), now);
      }
      case 'measure': {
        const { feature, test } = n;
        const zero = zeroWhenNone(this.plan.events[feature]!.fn);
        return (p, now) => {
          const v = this.measure(feature, p, now);
          return testNumber(test, v === null && zero ? 0 : v);
        };
      }
      case 'sequence': {
        const { feature } = n;
        return (p, now) => p.sequences[feature]?.value(now) ?? false;
      }
      case 'rank':
        return () => {
          throw new Error('a ranking is evaluated in batch only');
        };
      default:
        return assertNever(n);
    }
  }

  /** An event feature's value for the profile being tested, computed once per test. */
  private measure(feature: number, p: ProfileState, now: number): number | null {
    if (this.cached[feature] === this.testStamp) return this.cachedValues[feature]!;
    const source = this.routes.features[feature]!;
    let v: number | null = null;
    switch (source.kind) {
      case 'log': {
        const fn = this.plan.events[feature]!.fn;
        const log = p.logs[source.log];
        v = log ? log.aggregate(fn, source.column, now - source.span) : null;
        break;
      }
      case 'totals':
        v = p.totals[feature]?.value() ?? null;
        break;
      case 'unused':
        throw new Error(`event feature ${feature} is read by no streaming segment`);
      default:
        assertNever(source);
    }
    this.cached[feature] = this.testStamp;
    this.cachedValues[feature] = v;
    return v;
  }

  private collect(n: PlanNode, segment: number, events: Set<number>, sequences: Set<number>): void {
    switch (n.kind) {
      case 'all':
      case 'any':
        for (const x of n.nodes) this.collect(x, segment, events, sequences);
        return;
      case 'not':
        this.collect(n.node, segment, events, sequences);
        return;
      case 'value':
        this.ofValues.add(segment);
        if (n.test.operator === 'within_last' || n.test.operator === 'within_next') {
          this.timed.add(segment);
          this.valueTimers.push({ feature: n.feature, test: n.test });
        }
        return;
      case 'measure':
        events.add(n.feature);
        this.ofEvent[n.feature]!.add(segment);
        if (this.plan.events[n.feature]!.window.kind === 'last') this.timed.add(segment);
        return;
      case 'sequence': {
        sequences.add(n.feature);
        this.ofSequence[n.feature]!.add(segment);
        const s = this.plan.sequences[n.feature]!;
        if (s.window.kind === 'last' || !s.followed) this.timed.add(segment);
        return;
      }
      case 'rank':
        return;
      default:
        assertNever(n);
    }
  }
}
