import {
  BUILT_IN_NAMESPACES,
  type CreateAudienceSync,
  NotFoundError,
  newId,
  UserError,
} from '../core/index.js';
import type { Delivery, DeliveryRecord } from '../delivery/index.js';
import type { Store, StoredAudienceSync, StoreLock } from '../store/index.js';

export interface AudienceSyncOptions {
  log: { info(message: string): void; error(message: string, err?: unknown): void };
  /** How often the ledger is read for new entries and exits. */
  pollMs?: number;
  now?: () => Date;
}

/** Ledger entries read per sync step. */
const CHANGES_PER_STEP = 10_000;
const MEMBERS_PAGE = 5_000;

/**
 * Audience syncs: each keeps a destination in step with a segment. The first step sends every
 * member; each later one reads the membership ledger after the sync's cursor, keeps each
 * profile's last change, and enqueues the adds and the removes. A step's run id is the ledger
 * range it covers, so a step repeated after a crash enqueues nothing twice.
 */
export class AudienceSyncService {
  private timer: NodeJS.Timeout | undefined;
  private lock: StoreLock | undefined;
  private stepping: Promise<void> | undefined;
  private readonly now: () => Date;

  constructor(
    private readonly store: Store,
    private readonly delivery: Delivery,
    private readonly options: AudienceSyncOptions,
  ) {
    this.now = options.now ?? (() => new Date());
  }

  list(): Promise<StoredAudienceSync[]> {
    return this.store.audienceSyncs.list();
  }

  get(id: string): Promise<StoredAudienceSync> {
    return this.store.audienceSyncs.get(id);
  }

  /** Creates a sync; problems name their field. The first full send happens at the next step. */
  async create(input: CreateAudienceSync): Promise<StoredAudienceSync> {
    const issues: { code: string; path: string[]; message: string }[] = [];
    if (!(await this.store.segments.list()).some((s) => s.id === input.segmentId)) {
      issues.push({ code: 'not_found', path: ['segmentId'], message: `no segment ${input.segmentId}` });
    }
    let fields = input.fields;
    const destination = await this.delivery.destinations.get(input.destinationId).catch((err) => {
      if (!(err instanceof NotFoundError)) throw err;
      issues.push({
        code: 'not_found',
        path: ['destinationId'],
        message: `no destination ${input.destinationId}`,
      });
      return undefined;
    });
    if (destination && !destination.capabilities.supportsRemovals) {
      issues.push({
        code: 'removals_unsupported',
        path: ['destinationId'],
        message: `${destination.name} (${destination.connector}) cannot remove people, so it cannot be kept in step: send to it with a campaign`,
      });
    }
    if (destination && !fields) {
      // Emails and phones are identifiers, not attributes: the default takes them from the identity graph.
      const source = (f: string) =>
        (BUILT_IN_NAMESPACES as readonly string[]).includes(f) ? `identifier:${f}` : f;
      fields = Object.fromEntries(
        ['profile_id', ...destination.capabilities.defaultFields].map((f) => [f, source(f)]),
      );
    }
    if (issues.length > 0) {
      throw new UserError(
        'invalid_input',
        `invalid audience sync at ${issues[0]!.path.join('.')}: ${issues[0]!.message}`,
        issues,
      );
    }
    const sync: StoredAudienceSync = {
      id: newId('sync'),
      name: input.name,
      segmentId: input.segmentId,
      destinationId: input.destinationId,
      fields: fields!,
      cursor: undefined,
      lastSyncedAt: undefined,
      lastError: undefined,
      createdAt: this.now(),
    };
    await this.store.audienceSyncs.create(sync);
    this.wake();
    return sync;
  }

  delete(id: string): Promise<void> {
    return this.store.audienceSyncs.delete(id);
  }

  /** Steps every sync once (tests call it; the loop calls it every `pollMs`). */
  step(): Promise<void> {
    this.stepping ??= this.stepAll().finally(() => {
      this.stepping = undefined;
    });
    return this.stepping;
  }

  /** Steps syncs on a timer, in the one process that holds the store's sync lock. */
  start(): void {
    this.timer = setInterval(() => this.wake(), this.options.pollMs ?? 1000);
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.stepping?.catch(() => {});
    await this.lock?.release();
  }

  private wake(): void {
    if (this.timer === undefined) return;
    void this.step().catch((err) => this.options.log.error('audience syncs: a step failed', err));
  }

  private async stepAll(): Promise<void> {
    this.lock ??= await this.store.db.tryLock('audience-syncs');
    if (!this.lock) return;
    for (const sync of await this.store.audienceSyncs.list()) {
      try {
        await this.stepOne(sync);
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        this.options.log.error(`audience sync ${sync.name} failed: ${message}`);
        await this.store.audienceSyncs.failed(sync.id, message);
      }
    }
  }

  private async stepOne(sync: StoredAudienceSync): Promise<void> {
    const memberships = this.store.memberships;
    if (sync.cursor === undefined) {
      // The ledger position first, then the members: a change in between is sent again, harmlessly.
      const upTo = await memberships.lastSeq(sync.segmentId);
      await this.enqueue(sync, `full.${upTo}`, 'add', this.memberRows(sync));
      await this.store.audienceSyncs.advance(sync.id, upTo, this.now());
      return;
    }
    const changes = await memberships.changes(sync.segmentId, sync.cursor, CHANGES_PER_STEP);
    if (changes.length === 0) return;
    const last = new Map<string, boolean>();
    for (const c of changes) last.set(c.profileId, c.entered);
    const range = `${sync.cursor + 1}-${changes[changes.length - 1]!.seq}`;
    const added = [...last].filter(([, entered]) => entered).map(([id]) => id);
    const removed = [...last].filter(([, entered]) => !entered).map(([id]) => id);
    if (removed.length > 0) await this.enqueue(sync, range, 'remove', await this.rowsOf(sync, removed));
    if (added.length > 0) await this.enqueue(sync, range, 'add', await this.rowsOf(sync, added));
    await this.store.audienceSyncs.advance(sync.id, changes[changes.length - 1]!.seq, this.now());
  }

  private enqueue(
    sync: StoredAudienceSync,
    range: string,
    operation: 'add' | 'remove',
    rows: AsyncIterable<DeliveryRecord[]> | DeliveryRecord[],
  ) {
    return this.delivery.outbox.enqueue({
      destinationId: sync.destinationId,
      activation: { id: sync.id, name: sync.name },
      runId: `${sync.id}.${range}`,
      runAt: this.now(),
      operation,
      fields: Object.keys(sync.fields),
      rows,
    });
  }

  /** Every current member's row, a page at a time. */
  private async *memberRows(sync: StoredAudienceSync): AsyncGenerator<DeliveryRecord[]> {
    for (let after = ''; ; ) {
      const page = await this.store.memberships.members(sync.segmentId, MEMBERS_PAGE, after);
      if (page.length === 0) return;
      yield await this.rowsOf(
        sync,
        page.map((m) => m.profileId),
      );
      after = page[page.length - 1]!.profileId;
    }
  }

  /** The destination rows of some profiles: each field from the profile id, an identifier, an attribute or a trait. */
  private async rowsOf(sync: StoredAudienceSync, profileIds: readonly string[]): Promise<DeliveryRecord[]> {
    const sources = Object.values(sync.fields);
    const after = (prefix: string) =>
      sources.filter((s) => s.startsWith(prefix)).map((s) => s.slice(prefix.length));
    const values = await this.store.audienceSyncs.profileValues(profileIds, {
      attributes: sources.filter((s) => s !== 'profile_id' && !s.includes(':')),
      traits: after('trait:'),
      namespaces: after('identifier:'),
    });
    return profileIds.map((id) => {
      const row: DeliveryRecord = {};
      for (const [field, source] of Object.entries(sync.fields)) {
        row[field] = cellOf(source === 'profile_id' ? id : values.get(id)?.get(source));
      }
      return row;
    });
  }
}

/** A stored value as a destination cell: objects and arrays as their JSON text. */
function cellOf(value: unknown): DeliveryRecord[string] {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  return JSON.stringify(value);
}
