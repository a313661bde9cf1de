import { type CreateAudienceSync, type Issue, NotFoundError, newId, UserError } from '../core/index.js';
import type { Delivery, DeliveryRecord } from '../delivery/index.js';
import type {
  ConsentCursor,
  Store,
  StoredAudienceSync,
  StoredDestination,
  StoreLock,
  SyncStepStats,
} from '../store/index.js';
import { cursorRange, SyncConsent, sameCursor } from './audience-sync-consent.js';
import type { ContactPolicyService } from './contact-policy.js';
import { defaultMapping, profileRows } from './field-sources.js';
import { ConsentSuppression, PolicyChecker, policyError } from './governance/index.js';

export interface AudienceSyncOptions {
  log: { info(message: string): void; error(message: string, err?: unknown): void };
  /** How often the ledger is read for new entries and exits. */
  pollMs?: number;
  now?: () => Date;
  /** Holds back adds at quiet hours or past a frequency cap (the destination's purpose is its channel). */
  contactPolicy: ContactPolicyService;
}

/** How long members the contact policy held back wait before a step tries them again. */
const CONTACT_RETRY_MS = 60_000;

/** An audience sync as the API shows it: with the members it holds back from the destination, per reason. */
export interface AudienceSyncView extends StoredAudienceSync {
  suppressed: { total: number; reasons: Record<string, number> };
}

/** Ledger entries read per sync step. */
const CHANGES_PER_STEP = 10_000;
const MEMBERS_PAGE = 5_000;

/**
 * Audience syncs: each keeps a destination in step with a segment. The first step sends every
 * member; each later one reads the membership ledger after the sync's cursor, keeps each
 * profile's last change, and enqueues the adds and the removes. A step's run id is the ledger
 * and consent range it covers, so a step repeated after a crash enqueues nothing twice.
 *
 * Governance, at every step: fields an enabled data-usage policy forbids for the destination stop
 * the sync (lastError) before anything is sent; members without consent for the destination's
 * purpose are held back (recorded with why, never sent); a member whose consent goes is removed
 * from the destination, and sent again when it comes back while still a member. The sync learns
 * of consent changes from the statements identity has stitched since its last step (a second
 * cursor, on identity's cursors) and from merges.
 */
export class AudienceSyncService {
  private timer: NodeJS.Timeout | undefined;
  private lock: StoreLock | undefined;
  private stepping: Promise<void> | undefined;
  private readonly now: () => Date;
  private readonly consent: ConsentSuppression;
  private readonly policies: PolicyChecker;
  private readonly syncConsent: SyncConsent;
  /** When each sync last tried again the members its contact policy held back (by the service's clock). */
  private readonly contactRetriedAt = new Map<string, number>();

  constructor(
    private readonly store: Store,
    private readonly delivery: Delivery,
    private readonly options: AudienceSyncOptions,
  ) {
    this.now = options.now ?? (() => new Date());
    this.consent = new ConsentSuppression(store);
    this.policies = new PolicyChecker(store);
    this.syncConsent = new SyncConsent(store, this.consent);
  }

  async list(): Promise<AudienceSyncView[]> {
    const [syncs, held] = await Promise.all([
      this.store.audienceSyncs.list(),
      this.store.audienceSyncs.heldBackCounts(),
    ]);
    return syncs.map((s) => withSuppressed(s, held.get(s.id)));
  }

  async get(id: string): Promise<AudienceSyncView> {
    const [sync, held] = await Promise.all([
      this.store.audienceSyncs.get(id),
      this.store.audienceSyncs.heldBackCounts(),
    ]);
    return withSuppressed(sync, held.get(id));
  }

  /** Creates a sync; problems name their field. The first full send happens at the next step. */
  async create(input: CreateAudienceSync): Promise<AudienceSyncView> {
    const issues: Issue[] = [];
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
      fields = defaultMapping(destination.capabilities.defaultFields);
    }
    if (destination && fields)
      issues.push(...(await this.policies.checkFields(destination, fields, ['fields'])));
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
      consentCursor: undefined,
      purpose: undefined,
      lastStep: undefined,
    };
    await this.store.audienceSyncs.create(sync);
    this.wake();
    return withSuppressed(sync, undefined);
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
    const destination = await this.store.destinations.get(sync.destinationId);
    // The destination's actions or the labels may have changed since the sync was made.
    const violations = await this.policies.checkFields(destination, sync.fields, ['fields']);
    if (violations.length > 0) throw policyError(`audience sync ${sync.name}`, violations);
    // Identity's cursors first: statements stitched after this are read by the next step.
    const consentTo = await this.syncConsent.identityCursor();
    if (sync.cursor === undefined) return this.fullSync(sync, destination, consentTo);

    const changes = await this.store.memberships.changes(sync.segmentId, sync.cursor, CHANGES_PER_STEP);
    const cursor = changes.length > 0 ? changes[changes.length - 1]!.seq : sync.cursor;
    const consentFrom = sync.consentCursor;
    const purpose = destination.purpose;
    const recheckAll =
      consentFrom === undefined ||
      sync.purpose !== purpose ||
      consentTo.events < consentFrom.events ||
      consentTo.records < consentFrom.records ||
      consentTo.audit < consentFrom.audit;
    const consentMoved = recheckAll || !sameCursor(consentFrom, consentTo);
    const retryContact = await this.contactRetryDue(sync, purpose);
    if (changes.length === 0 && !consentMoved && retryContact.length === 0) {
      // Whatever stopped the last step (a policy since relaxed) no longer does.
      if (sync.lastError !== undefined) await this.store.audienceSyncs.failed(sync.id, undefined);
      return;
    }

    const step = emptyStep(this.now());
    const hold: { profileId: string; reason: string }[] = [];
    const release: string[] = [];
    const adds: string[] = [];
    const removes: string[] = [];

    // The ledger: each profile's last change; entries without consent are held back instead of sent.
    const last = new Map<string, boolean>();
    for (const c of changes) last.set(c.profileId, c.entered);
    const entered = [...last].filter(([, e]) => e).map(([id]) => id);
    const exited = [...last].filter(([, e]) => !e).map(([id]) => id);
    const enteredHeld = await this.consent.suppressed(entered, purpose);
    for (const id of entered) {
      const reason = enteredHeld.get(id);
      if (reason) hold.push({ profileId: id, reason });
      else adds.push(id);
    }
    // Who was held back was never sent: an exit only forgets them.
    const exitedHeld = await this.store.audienceSyncs.heldBack(sync.id, exited);
    for (const id of exited) {
      if (exitedHeld.has(id)) release.push(id);
      else removes.push(id);
    }

    // Consent: members whose consent for the purpose may have changed, except those the ledger
    // just moved or will move (their entry or exit decides).
    if (consentMoved) {
      const skip = await this.store.audienceSyncs.pendingProfiles(sync.segmentId, sync.cursor);
      const changed = await this.syncConsent.changes(
        sync,
        purpose,
        recheckAll ? undefined : consentFrom,
        consentTo,
        skip,
      );
      for (const { profileId, reason, wasHeld } of changed) {
        if (reason !== undefined) {
          hold.push({ profileId, reason });
          if (!wasHeld) {
            removes.push(profileId);
            step.withdrawn++;
          }
        } else {
          adds.push(profileId);
          step.regranted++;
        }
      }
    }
    // The contact policy: members it held back before, still members and not moved by this step,
    // are tried again; then it screens every add (held ones wait, not sent).
    const moved = new Set([...last.keys(), ...adds, ...removes, ...hold.map((h) => h.profileId)]);
    const retried = retryContact.filter((id) => !moved.has(id));
    if (retried.length > 0) {
      const stillMembers = await this.store.audienceSyncs.membersAmong(sync.segmentId, retried);
      const noConsent = await this.consent.suppressed([...stillMembers], purpose);
      for (const id of retried) {
        if (!stillMembers.has(id)) release.push(id);
        else if (noConsent.has(id)) hold.push({ profileId: id, reason: noConsent.get(id)! });
        else adds.push(id);
      }
    }
    const contactHeld =
      purpose === undefined || adds.length === 0
        ? new Map<string, string>()
        : await this.options.contactPolicy.screen({ profileIds: adds, channel: purpose, at: this.now() });
    for (const [profileId, reason] of contactHeld) hold.push({ profileId, reason });
    const sending = adds.filter((id) => !contactHeld.has(id));
    release.push(...sending);

    for (const h of hold) step.suppressed[h.reason] = (step.suppressed[h.reason] ?? 0) + 1;
    step.added = sending.length;
    step.removed = removes.length;

    // Tries of held-back members add the time to the run id: each is a send of its own.
    const range = `${sync.cursor + 1}-${cursor}.${cursorRange(consentFrom, consentTo)}${retryContact.length > 0 ? `.c${this.now().getTime()}` : ''}`;
    if (removes.length > 0) await this.enqueue(sync, range, 'remove', await this.rowsOf(sync, removes));
    if (sending.length > 0) {
      await this.enqueue(sync, range, 'add', await this.rowsOf(sync, sending));
      await this.recordContacts(sync, purpose, `${sync.id}.${range}`, sending);
    }
    await this.store.audienceSyncs.advance(
      sync.id,
      { cursor, consentCursor: consentTo, purpose, lastStep: step, hold, release },
      this.now(),
    );
  }

  /** The first step: every member not held back, each page's held-back members recorded as it is read. */
  private async fullSync(sync: StoredAudienceSync, destination: StoredDestination, consentTo: ConsentCursor) {
    // The ledger position first, then the members: a change in between is sent again, harmlessly.
    const upTo = await this.store.memberships.lastSeq(sync.segmentId);
    const step = emptyStep(this.now());
    const range = `full.${upTo}`;
    await this.store.contacts.forgetRun(`${sync.id}.${range}`);
    await this.enqueue(
      sync,
      range,
      'add',
      this.memberRows(sync, destination.purpose, step, `${sync.id}.${range}`),
    );
    await this.store.audienceSyncs.advance(
      sync.id,
      {
        cursor: upTo,
        consentCursor: consentTo,
        purpose: destination.purpose,
        lastStep: step,
        hold: [],
        release: [],
      },
      this.now(),
    );
  }

  /** Who the contact policy held back and is due to be tried again (at most once a minute per sync). */
  private async contactRetryDue(sync: StoredAudienceSync, purpose: string | undefined): Promise<string[]> {
    if (purpose === undefined) return [];
    const last = this.contactRetriedAt.get(sync.id);
    if (last !== undefined && this.now().getTime() - last < CONTACT_RETRY_MS) return [];
    this.contactRetriedAt.set(sync.id, this.now().getTime());
    return this.store.audienceSyncs.heldByContactPolicy(sync.id);
  }

  /** Logs the adds sent on the destination's channel, for frequency caps. */
  private async recordContacts(
    sync: StoredAudienceSync,
    purpose: string | undefined,
    runId: string,
    profileIds: readonly string[],
  ): Promise<void> {
    if (purpose === undefined || profileIds.length === 0) return;
    await this.options.contactPolicy.record({
      profileIds,
      channel: purpose,
      activationId: sync.id,
      runId,
      at: this.now(),
    });
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

  /** Every current member's row, a page at a time, without those held back (recorded per page). */
  private async *memberRows(
    sync: StoredAudienceSync,
    purpose: string | undefined,
    step: SyncStepStats,
    runId: string,
  ): AsyncGenerator<DeliveryRecord[]> {
    for (let after = ''; ; ) {
      const page = (await this.store.memberships.members(sync.segmentId, MEMBERS_PAGE, after)).map(
        (m) => m.profileId,
      );
      if (page.length === 0) return;
      const held: Map<string, string> = await this.consent.suppressed(page, purpose);
      if (purpose !== undefined) {
        const open = page.filter((id) => !held.has(id));
        const at = this.now();
        for (const [id, reason] of await this.options.contactPolicy.screen({
          profileIds: open,
          channel: purpose,
          at,
        }))
          held.set(id, reason);
      }
      // Without a purpose nobody is held back, and a new sync holds nobody yet.
      if (purpose !== undefined)
        await this.store.audienceSyncs.holdAmong(
          sync.id,
          page,
          [...held].map(([profileId, reason]) => ({ profileId, reason })),
        );
      for (const reason of held.values()) step.suppressed[reason] = (step.suppressed[reason] ?? 0) + 1;
      const sent = page.filter((id) => !held.has(id));
      step.added += sent.length;
      await this.recordContacts(sync, purpose, runId, sent);
      yield await this.rowsOf(sync, sent);
      after = page[page.length - 1]!;
    }
  }

  /** The destination rows of some profiles, each field from its source. */
  private rowsOf(sync: StoredAudienceSync, profileIds: readonly string[]): Promise<DeliveryRecord[]> {
    return profileRows(this.store, sync.fields, profileIds);
  }
}

function withSuppressed(
  sync: StoredAudienceSync,
  reasons: Record<string, number> | undefined,
): AudienceSyncView {
  const held = reasons ?? {};
  return { ...sync, suppressed: { total: Object.values(held).reduce((a, b) => a + b, 0), reasons: held } };
}

function emptyStep(at: Date): SyncStepStats {
  return { at: at.toISOString(), added: 0, removed: 0, suppressed: {}, withdrawn: 0, regranted: 0 };
}
