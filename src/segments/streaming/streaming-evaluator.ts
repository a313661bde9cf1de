import { assertNever, type PropertyFilter, type ValueTest } from '../../core/index.js';
import { type PlanNode, type SegmentPlan, zeroWhenNone } from '../segment-plan.js';
import { numberOf, testNumber, testValue, textOf, valueAt, valueTestNextChange } from '../value-test.js';
import { EventAggregateState } from './event-aggregate-state.js';
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
  | { kind: 'event'; event: string; messageId: string }
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

class ProfileState {
  readonly events = new Map<number, EventAggregateState>();
  readonly sequences = new Map<number, SequenceState>();
  values = new Map<number, unknown>();
  readonly members = new Set<number>();
  due = Number.POSITIVE_INFINITY;
}

type Role = { kind: 'event' | 'first' | 'next'; feature: number; where: readonly PropertyFilter[] };

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
  private readonly roles = new Map<string, Role[]>();
  private readonly ofEvent: Set<number>[];
  private readonly ofSequence: Set<number>[];
  private readonly ofValues = new Set<number>();
  private readonly timed = new Set<number>();
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
    const addRole = (event: string, role: Role) => {
      const list = this.roles.get(event);
      if (list) list.push(role);
      else this.roles.set(event, [role]);
    };
    for (const i of usedEvents)
      addRole(plan.events[i]!.event, { kind: 'event', feature: i, where: plan.events[i]!.where });
    for (const i of usedSequences) {
      const s = plan.sequences[i]!;
      addRole(s.first.event, { kind: 'first', feature: i, where: s.first.where ?? [] });
      addRole(s.next.event, { kind: 'next', feature: i, where: s.next.where ?? [] });
    }
  }

  /** Event names that matter to some streaming segment. */
  get eventNames(): string[] {
    return [...this.roles.keys()];
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
    for (const [id, p] of this.profiles) if (p.members.has(segment)) yield id;
  }

  isMember(segment: number, profileId: string): boolean {
    return this.profiles.get(profileId)?.members.has(segment) ?? false;
  }

  /** Records memberships as stored, before `reevaluateAll` compares them with the state. */
  restoreMember(segment: number, profileId: string): void {
    this.state(profileId).members.add(segment);
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
    const p = new ProfileState();
    for (const s of old?.members ?? []) p.members.add(s);
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
    const fresh = state === undefined;
    const p = state ?? this.state(profileId);
    const affected = this.absorb(p, e, now);
    const reason: ChangeReason = { kind: 'event', event: e.event ?? '', messageId: e.messageId };
    return this.reevaluate(profileId, p, fresh ? this.streaming : affected, now, reason);
  }

  /** A profile's attributes or traits changed. */
  applyValues(profileId: string, values: Map<number, unknown>, now: number): MembershipChange[] {
    const fresh = !this.profiles.has(profileId);
    const p = this.state(profileId);
    p.values = values;
    return this.reevaluate(profileId, p, fresh ? this.streaming : this.ofValues, now, { kind: 'profile' });
  }

  /** A profile is gone (merged into another): it leaves every segment. */
  removeProfile(profileId: string, now: number, reason: ChangeReason): MembershipChange[] {
    const p = this.profiles.get(profileId);
    if (!p) return [];
    this.profiles.delete(profileId);
    return [...p.members].map((segment) => ({ segment, profileId, entered: false, at: now, reason }));
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
      changes.push(...this.reevaluate(id, p, this.timed, now, { kind: 'time' }));
    }
    return changes;
  }

  private state(profileId: string): ProfileState {
    let p = this.profiles.get(profileId);
    if (!p) {
      p = new ProfileState();
      this.profiles.set(profileId, p);
    }
    return p;
  }

  /** Adds an event to the features it matches; returns the segments to look at again. */
  private absorb(p: ProfileState, e: StreamEvent, now: number): Set<number> {
    const affected = new Set<number>();
    const roles = e.event === null ? undefined : this.roles.get(e.event);
    if (!roles) return affected;
    for (const role of roles) {
      if (!role.where.every((f) => testValue(f.test, valueAt(e.properties, f.property.split('.')), now)))
        continue;
      if (role.kind === 'event') {
        const f = this.plan.events[role.feature]!;
        let s = p.events.get(role.feature);
        if (!s) {
          s = new EventAggregateState(f);
          p.events.set(role.feature, s);
        }
        const raw = f.property === undefined ? null : valueAt(e.properties, f.property.split('.'));
        s.add(
          e.timestamp,
          f.fn === 'count' ? null : f.fn === 'distinct_count' ? textOf(raw) : numberOf(raw),
          now,
        );
        for (const seg of this.ofEvent[role.feature]!) affected.add(seg);
      } else {
        let s = p.sequences.get(role.feature);
        if (!s) {
          s = new SequenceState(this.plan.sequences[role.feature]!);
          p.sequences.set(role.feature, s);
        }
        if (role.kind === 'first') s.addFirst(e.timestamp, e.seq, now);
        else s.addThen(e.timestamp, e.seq, now);
        for (const seg of this.ofSequence[role.feature]!) affected.add(seg);
      }
    }
    return affected;
  }

  private reevaluate(
    profileId: string,
    p: ProfileState,
    segments: Iterable<number>,
    now: number,
    reason: ChangeReason,
  ): MembershipChange[] {
    const changes: MembershipChange[] = [];
    for (const s of segments) {
      const member = this.test(this.plan.segments[s]!.node, p, now);
      if (member === p.members.has(s)) continue;
      if (member) p.members.add(s);
      else p.members.delete(s);
      changes.push({ segment: s, profileId, entered: member, at: now, reason });
    }
    this.schedule(profileId, p, now);
    return changes;
  }

  private schedule(profileId: string, p: ProfileState, now: number): void {
    let due = Number.POSITIVE_INFINITY;
    for (const s of p.events.values()) due = Math.min(due, s.nextChange(now));
    for (const s of p.sequences.values()) due = Math.min(due, s.nextChange(now));
    for (const t of this.valueTimers)
      due = Math.min(due, valueTestNextChange(t.test, p.values.get(t.feature), now));
    if (due === p.due || due === Number.POSITIVE_INFINITY) return;
    p.due = due;
    this.timers.push(due, profileId);
  }

  private test(n: PlanNode, p: ProfileState, now: number): boolean {
    switch (n.kind) {
      case 'all':
        return n.nodes.every((x) => this.test(x, p, now));
      case 'any':
        return n.nodes.some((x) => this.test(x, p, now));
      case 'not':
        return !this.test(n.node, p, now);
      case 'value':
        return testValue(n.test, p.values.get(n.feature), now);
      case 'measure': {
        const f = this.plan.events[n.feature]!;
        const v = p.events.get(n.feature)?.value(now) ?? null;
        return testNumber(n.test, v === null && zeroWhenNone(f.fn) ? 0 : v);
      }
      case 'sequence':
        return p.sequences.get(n.feature)?.value(now) ?? false;
      case 'rank':
        throw new Error('a ranking is evaluated in batch only');
      default:
        return assertNever(n);
    }
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
