import {
  type Condition,
  describeCondition,
  type EvaluationMode,
  type Issue,
  NotFoundError,
  newId,
  POPULATION_AGGREGATES,
  parseOrThrow,
  type Segment,
  type SegmentDefinition,
  SegmentDefinitionSchema,
  SegmentPreviewSchema,
  type StoredEvent,
  type TraitAggregate,
  UserError,
} from '../core/index.js';
import type { EvaluationCounts, LedgerChange, Store, StoredSegment, StoreLock } from '../store/index.js';
import { evaluationMode } from './evaluation-mode.js';
import { type CompiledSql, segmentCompiler } from './segment-compiler.js';
import { type PreviewResult, previewSegment } from './segment-insights.js';
import { planSegments, type SegmentPlan } from './segment-plan.js';
import { type ReferenceCatalog, referencedSegments, referenceIssues } from './segment-references.js';
import { type ProfileChanges, type ProfileResolver, SegmentStream } from './segment-stream.js';

/** How often the service looks for definitions changed elsewhere and for a free evaluating role. */
const POLL_MS = 5000;

/** What segments need of identity resolution (the `IdentityService`). */
export type SegmentIdentity = ProfileResolver & {
  readonly isWriter: boolean;
  subscribe(listener: (c: ProfileChanges) => void): void;
};

export interface SegmentServiceOptions {
  /** The clock segments are evaluated by (tests move it). */
  now?: () => number;
  /** How often batch-only segments are evaluated; 0: only on demand. */
  batchIntervalMs?: number;
  /** Recomputes the RFM-score traits, before a batch evaluation that reads them. */
  refreshScores?: () => Promise<void>;
  onError?: (err: unknown) => void;
}

/** One batch evaluation: what changed per segment, and how long it took. */
export interface EvaluationResult {
  at: Date;
  seconds: number;
  segments: EvaluationCounts[];
}

/**
 * Segments: their definitions, batch evaluation (SQL over shared features), streaming evaluation
 * (as events arrive), and the membership ledger both write. One process per store evaluates; the
 * others only read and manage definitions.
 */
export class SegmentService {
  private segments = new Map<string, StoredSegment>();
  private traitAggregates = new Map<string, TraitAggregate>();
  private stream: SegmentStream | undefined;
  private lock: StoreLock | undefined;
  private batchTimer: NodeJS.Timeout | undefined;
  private poll: NodeJS.Timeout | undefined;
  /** The version of the definitions this process last applied. */
  private signature = '';
  private changing: Promise<unknown> = Promise.resolve();
  private closed = false;
  private readonly listeners: ((changes: readonly LedgerChange[]) => void)[] = [];
  private readonly now: () => number;
  private readonly onError: (err: unknown) => void;

  private constructor(
    readonly store: Store,
    private readonly options: SegmentServiceOptions,
    private readonly identity?: SegmentIdentity,
  ) {
    this.now = options.now ?? Date.now;
    this.onError = options.onError ?? (() => {});
  }

  /**
   * Loads the definitions; with `identity`, takes the evaluating role if free and starts streaming
   * evaluation (its state loaded from the store) and the batch schedule.
   */
  static async open(
    store: Store,
    identity?: SegmentIdentity,
    options: SegmentServiceOptions = {},
  ): Promise<SegmentService> {
    const service = new SegmentService(store, options, identity);
    await service.reloadDefinitions();
    service.signature = await store.segments.signature();
    if (!identity) return service;
    identity.subscribe((c) => service.stream?.onProfiles(c));
    await service.claim();
    // Picks up definitions changed by other processes, and takes over evaluation from one that stopped.
    service.poll = setInterval(() => void service.sync().catch(service.onError), POLL_MS);
    service.poll.unref();
    return service;
  }

  /**
   * Becomes the evaluating process if this one resolves identities (streaming reads the identity
   * graph in memory) and no other process evaluates.
   */
  private async claim(): Promise<void> {
    const identity = this.identity;
    if (this.stream || !identity?.isWriter) return;
    this.lock = await this.store.db.tryLock('segments');
    if (!this.lock) return;
    await this.reloadDefinitions();
    const { plan, streaming } = this.streamingPlan();
    const stream = new SegmentStream(
      this.store,
      identity,
      plan,
      streaming,
      this.now,
      this.onError,
      (changes) => this.announce(changes),
    );
    await stream.start();
    this.stream = stream;
    const interval = this.options.batchIntervalMs ?? 15 * 60_000;
    if (interval > 0) {
      this.batchTimer = setInterval(() => void this.evaluate().catch(this.onError), interval);
      this.batchTimer.unref();
    }
  }

  /**
   * Applies definitions changed by other processes, and takes over evaluation if this process now
   * resolves identities and nobody else evaluates (also every 5 s on its own).
   */
  sync(): Promise<void> {
    return this.serialized(async () => {
      if (this.closed) return;
      await this.claim();
      const signature = await this.store.segments.signature();
      if (signature === this.signature) return;
      const known = new Set(this.segments.keys());
      await this.reloadDefinitions();
      await this.applyDefinitions([...this.segments.keys()].filter((id) => !known.has(id)));
    });
  }

  /** Whether this process evaluates segments for the store. */
  get isEvaluator(): boolean {
    return this.stream !== undefined;
  }

  /** Hands over events the ingest writer stored (their seqs start at `firstSeq`). */
  offer(firstSeq: number, events: readonly StoredEvent[]): void {
    this.stream?.offer(firstSeq, events);
  }

  /** Calls `listener` with every batch of changes written to the ledger by streaming evaluation. */
  subscribe(listener: (changes: readonly LedgerChange[]) => void): void {
    this.listeners.push(listener);
  }

  list(): Segment[] {
    return [...this.segments.values()]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((s) => this.present(s));
  }

  get(id: string): Segment {
    const s = this.segments.get(id);
    if (!s) throw new NotFoundError('segment', id);
    return this.present(s);
  }

  /** Creates a segment; batch-only ones are evaluated at once, streaming ones join the stream. */
  async create(input: unknown): Promise<Segment> {
    return (await this.createAll([input]))[0]!;
  }

  /** Creates several segments, then computes their members once for all of them. */
  async createAll(inputs: readonly unknown[]): Promise<Segment[]> {
    const definitions: SegmentDefinition[] = [];
    for (const input of inputs) definitions.push(await this.validate(input, undefined));
    const at = new Date(this.now());
    const stored = definitions.map(
      (d): StoredSegment => ({
        id: newId('seg'),
        ...d,
        ...this.modeOf(d.condition),
        createdAt: at,
        updatedAt: at,
      }),
    );
    for (const s of stored) await this.store.segments.insert(s);
    await this.definitionsChanged(stored.map((s) => s.id));
    return stored.map((s) => this.get(s.id));
  }

  async update(id: string, input: unknown): Promise<Segment> {
    const existing = this.segments.get(id);
    if (!existing) throw new NotFoundError('segment', id);
    const definition = await this.validate(input, id);
    const stored: StoredSegment = {
      ...existing,
      description: undefined,
      ...definition,
      ...this.modeOf(definition.condition),
      updatedAt: new Date(this.now()),
    };
    await this.store.segments.update(stored);
    // Segments that refer to this one change with it.
    await this.definitionsChanged([...this.segments.keys()]);
    return this.get(id);
  }

  async delete(id: string): Promise<void> {
    const using = [...this.segments.values()].filter(
      (s) => s.id !== id && referencedSegments(s.condition).includes(id),
    );
    if (using.length > 0) {
      throw new UserError(
        'in_use',
        `segment ${id} is used by ${using.map((s) => s.name).join(', ')}: change those first`,
      );
    }
    // A sync would stop hearing of exits (deleting a segment writes none): stop the sync first.
    if (await this.store.audienceSyncs.usesSegment(id)) {
      throw new UserError('in_use', `segment ${id} is sent by an audience sync: delete the sync first`);
    }
    const campaign = await this.store.campaigns.usesSegment(id);
    if (campaign !== undefined) {
      throw new UserError(
        'in_use',
        `segment ${id} is used by campaign ${campaign}: change the campaign first`,
      );
    }
    await this.store.segments.delete(id);
    await this.definitionsChanged([]);
  }

  /**
   * Evaluates segments in batch at `now` and records every entry and exit. By default the
   * batch-only segments (streaming ones are kept current by the stream); without a stream, all.
   */
  async evaluate(options: { segmentIds?: readonly string[]; now?: Date } = {}): Promise<EvaluationResult> {
    if (!this.stream) {
      // A server that is not the evaluating process leaves evaluation to the one that is; a
      // command-line process evaluates if no server does.
      if (this.identity) this.refuseBusy();
      this.lock ??= await this.store.db.tryLock('segments');
      if (!this.lock) this.refuseBusy();
    }
    const started = performance.now();
    const at = options.now ?? new Date(this.now());
    const ids =
      options.segmentIds ??
      [...this.segments.values()].filter((s) => !this.stream || s.mode === 'batch').map((s) => s.id);
    for (const id of ids) {
      const s = this.segments.get(id);
      if (!s) throw new NotFoundError('segment', id);
      if (this.stream && s.mode === 'streaming') {
        throw new UserError(
          'streaming_segment',
          `segment ${s.name} is streaming: its members are kept current as events arrive`,
        );
      }
    }
    const plan = this.planOf(ids);
    // RFM scores rank every profile: recomputed before a batch that reads them (or ranks by them).
    const readsScores = plan.values.some((v) => {
      const aggregate = v.source === 'trait' ? this.traitAggregates.get(v.name) : undefined;
      return aggregate !== undefined && POPULATION_AGGREGATES.includes(aggregate);
    });
    if (readsScores) await this.options.refreshScores?.();
    const counts = await this.store.memberships.replaceMembers(ids, this.sqlOf(plan, at), at, {
      kind: 'evaluation',
    });
    return { at, seconds: (performance.now() - started) / 1000, segments: counts };
  }

  /** `SELECT segment_id, profile_id` of the members of `ids` at `at`, computed in one statement. */
  membershipSql(ids: readonly string[], at: Date): CompiledSql {
    return this.sqlOf(this.planOf(ids), at);
  }

  /**
   * `SELECT segment_id, profile_id` of the profiles that meet unsaved conditions at `at` (each
   * listed under its `id`), e.g. a campaign's sub-audiences; references to saved segments resolve.
   */
  conditionsSql(conditions: readonly { id: string; condition: Condition }[], at: Date): CompiledSql {
    return this.sqlOf(
      planSegments(conditions, (ref) => this.segments.get(ref)?.condition),
      at,
    );
  }

  /** Problems with an unsaved condition's references (unknown attributes, events, traits, segments). */
  conditionIssues(condition: Condition, path: (string | number)[]): Promise<Issue[]> {
    return referenceIssues(condition, undefined, this.catalog(), path);
  }

  private planOf(ids: readonly string[]): SegmentPlan {
    return planSegments(
      ids.map((id) => ({ id, condition: this.segments.get(id)!.condition })),
      (ref) => this.segments.get(ref)?.condition,
    );
  }

  private sqlOf(plan: SegmentPlan, at: Date): CompiledSql {
    const { sql, params } = segmentCompiler(this.store.db.dialect).compile(plan, at);
    const selects = plan.segments.map(
      (_, i) =>
        `SELECT CAST($${params.length + i + 1} AS VARCHAR) AS segment_id, profile_id FROM result WHERE s${i}`,
    );
    return {
      sql: `WITH result AS MATERIALIZED (${sql})\n${selects.join('\nUNION ALL ')}`,
      params: [...params, ...plan.segments.map((s) => s.id)],
    };
  }

  /** Count, sample, value and overlaps of an unsaved definition (`POST /api/segments/preview`). */
  preview(input: unknown): Promise<PreviewResult> {
    const request = parseOrThrow(SegmentPreviewSchema, input, 'preview');
    const catalog = { ...this.catalog(), segmentName: (id: string) => this.segments.get(id)?.name };
    return previewSegment(this.store, catalog, request, new Date(this.now()), (c) => this.modeOf(c));
  }

  /** Members per segment, for listings. */
  async sizes(): Promise<Map<string, number>> {
    return this.store.memberships.sizes();
  }

  /** Waits until every event and profile change handed over so far is evaluated and recorded. */
  async settle(): Promise<void> {
    await this.stream?.settle();
  }

  /** Runs the timers due at the service's clock (after a test moved it). */
  async tick(): Promise<void> {
    await this.stream?.tick();
    await this.settle();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.poll);
    clearInterval(this.batchTimer);
    await this.changing.catch(() => {});
    await this.stream?.close();
    this.stream = undefined;
    await this.lock?.release();
    this.lock = undefined;
  }

  private refuseBusy(): never {
    throw new UserError(
      'segments_busy',
      'another Sluice process evaluates segments for this store (the one that resolves identities): evaluate there',
    );
  }

  /** Parses a definition and checks its references; every problem is reported at once. */
  async validate(input: unknown, selfId: string | undefined): Promise<SegmentDefinition> {
    const definition = parseOrThrow(SegmentDefinitionSchema, input, 'segment');
    this.traitAggregates = new Map((await this.store.traits.list()).map((t) => [t.name, t.aggregate]));
    const issues = await referenceIssues(definition.condition, selfId, this.catalog());
    if (issues.length > 0) {
      const first = issues[0]!;
      throw new UserError(
        'invalid_input',
        `invalid segment at ${first.path.join('.')}: ${first.message}`,
        issues,
      );
    }
    return definition;
  }

  /** The references a segment may make, as this store has them now. */
  catalog(): ReferenceCatalog {
    const db = this.store.db;
    const exists = async (sql: string, value: string) => (await db.query(sql, [value])).length > 0;
    return {
      attributeExists: (name) => exists('SELECT 1 FROM profile_attributes WHERE name = $1 LIMIT 1', name),
      traitExists: (name) => exists('SELECT 1 FROM computed_traits WHERE name = $1', name),
      eventExists: (name) => exists('SELECT 1 FROM events WHERE event = $1 LIMIT 1', name),
      segment: (id) => this.segments.get(id)?.condition,
    };
  }

  conditionOf(id: string): Condition | undefined {
    return this.segments.get(id)?.condition;
  }

  /** After this process changed definitions: apply them, one change at a time. */
  private definitionsChanged(evaluateNow: readonly string[]): Promise<void> {
    return this.serialized(async () => {
      await this.reloadDefinitions();
      await this.applyDefinitions(evaluateNow);
    });
  }

  /** Settles modes, restarts the stream over the definitions, and evaluates `evaluateNow` if batch. */
  private async applyDefinitions(evaluateNow: readonly string[]): Promise<void> {
    // Modes depend on referenced segments: settle them again.
    for (const s of this.segments.values()) {
      const mode = this.modeOf(s.condition);
      if (mode.mode !== s.mode || mode.modeReason !== s.modeReason) {
        await this.store.segments.update({ ...s, ...mode });
        this.segments.set(s.id, { ...s, ...mode });
      }
    }
    this.signature = await this.store.segments.signature();
    if (!this.stream) return;
    const { plan, streaming } = this.streamingPlan();
    await this.stream.restart(plan, streaming);
    await this.stream.settle();
    const batch = evaluateNow.filter((id) => this.segments.get(id)?.mode === 'batch');
    if (batch.length > 0) await this.evaluate({ segmentIds: batch });
  }

  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.changing.then(fn);
    this.changing = run.catch(() => {});
    return run;
  }

  private async reloadDefinitions(): Promise<void> {
    this.segments = new Map((await this.store.segments.list()).map((s) => [s.id, s]));
    this.traitAggregates = new Map((await this.store.traits.list()).map((t) => [t.name, t.aggregate]));
  }

  private streamingPlan() {
    const all = [...this.segments.values()];
    const plan = planSegments(all, (ref) => this.segments.get(ref)?.condition);
    const streaming = all.flatMap((s, i) => (s.mode === 'streaming' ? [i] : []));
    return { plan, streaming };
  }

  private modeOf(condition: Condition): { mode: EvaluationMode; modeReason?: string | undefined } {
    const { mode, reason } = evaluationMode(
      condition,
      (ref) => this.segments.get(ref)?.condition,
      (name) => this.traitAggregates.get(name),
    );
    return { mode, modeReason: reason };
  }

  private present(s: StoredSegment): Segment {
    return {
      ...s,
      sentence: describeCondition(s.condition, (ref) => this.segments.get(ref)?.name ?? ref),
    };
  }

  private announce(changes: readonly LedgerChange[]): void {
    for (const l of this.listeners) {
      try {
        l(changes);
      } catch (err) {
        this.onError(err);
      }
    }
  }
}
