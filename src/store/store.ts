import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ApiKeyRepository } from './api-key-repository.js';
import { AttributeRepository } from './attribute-repository.js';
import { AudienceSyncRepository } from './audience-sync-repository.js';
import { CampaignRepository } from './campaign-repository.js';
import { ConsentRepository } from './consent-repository.js';
import { ContactRepository } from './contact-repository.js';
import type { Database } from './database.js';
import { FilePayloads, TablePayloads } from './delivery-payloads.js';
import { DeliveryRepository } from './delivery-repository.js';
import { DestinationRepository } from './destination-repository.js';
import { DuckDBDatabase } from './duckdb-database.js';
import { DuckDBWorkspaceQueries } from './duckdb-workspace-query.js';
import { EventRepository } from './event-repository.js';
import { IdentityRepository } from './identity-repository.js';
import { ImportRepository } from './import-repository.js';
import { LabelRepository } from './label-repository.js';
import { MatchRepository } from './match-repository.js';
import { MembersCatchUp } from './members-catch-up.js';
import { MembershipRepository } from './membership-repository.js';
import { migrate } from './migrations.js';
import { OrchestrationRepository } from './orchestration-repository.js';
import { PolicyRepository } from './policy-repository.js';
import { PostgresDatabase } from './postgres-database.js';
import { PostgresWorkspaceQueries } from './postgres-workspace-query.js';
import { RecordRepository } from './record-repository.js';
import { RejectRepository } from './reject-repository.js';
import { ScheduleRepository } from './schedule-repository.js';
import { SegmentRepository } from './segment-repository.js';
import { SourceRepository } from './source-repository.js';
import { type SourceStats, sourceStats } from './stats-repository.js';
import { TraitRepository } from './trait-repository.js';
import type { WorkspaceQueries } from './workspace-query.js';

/** Everything Sluice keeps, whichever engine holds it. */
export class Store {
  readonly sources: SourceRepository;
  readonly apiKeys: ApiKeyRepository;
  readonly events: EventRepository;
  readonly records: RecordRepository;
  readonly rejects: RejectRepository;
  readonly imports: ImportRepository;
  readonly identity: IdentityRepository;
  readonly traits: TraitRepository;
  readonly matches: MatchRepository;
  readonly attributes: AttributeRepository;
  readonly segments: SegmentRepository;
  readonly memberships: MembershipRepository;
  readonly destinations: DestinationRepository;
  readonly deliveries: DeliveryRepository;
  readonly schedules: ScheduleRepository;
  readonly audienceSyncs: AudienceSyncRepository;
  readonly campaigns: CampaignRepository;
  readonly contacts: ContactRepository;
  readonly orchestrations: OrchestrationRepository;
  /** Read-only SQL over the workspace views (orchestrations). */
  readonly workspaceQueries: WorkspaceQueries;
  readonly consent: ConsentRepository;
  readonly labels: LabelRepository;
  readonly policies: PolicyRepository;

  /** `payloadDir`: where the embedded store keeps delivery rows as files (PostgreSQL keeps them in a table). */
  constructor(
    readonly db: Database,
    payloadDir?: string,
  ) {
    this.sources = new SourceRepository(db);
    this.apiKeys = new ApiKeyRepository(db);
    this.events = new EventRepository(db);
    this.records = new RecordRepository(db);
    this.rejects = new RejectRepository(db);
    this.imports = new ImportRepository(db);
    this.identity = new IdentityRepository(db);
    this.traits = new TraitRepository(db);
    this.matches = new MatchRepository(db);
    this.attributes = new AttributeRepository(db);
    const catchUp = new MembersCatchUp(db);
    this.segments = new SegmentRepository(db, catchUp);
    this.memberships = new MembershipRepository(db, catchUp);
    this.destinations = new DestinationRepository(db);
    this.schedules = new ScheduleRepository(db);
    this.audienceSyncs = new AudienceSyncRepository(db, catchUp);
    this.campaigns = new CampaignRepository(db);
    this.contacts = new ContactRepository(db);
    this.orchestrations = new OrchestrationRepository(db);
    const queries =
      db instanceof PostgresDatabase
        ? new PostgresWorkspaceQueries(db)
        : new DuckDBWorkspaceQueries(db as DuckDBDatabase);
    // Workspace queries may read the memberships view: the members are brought up to the ledger first.
    this.workspaceQueries = {
      describe: (sql, timeoutMs) => queries.describe(sql, timeoutMs),
      read: async (sql, options, consume) => {
        await catchUp.run();
        return queries.read(sql, options, consume);
      },
    };
    this.consent = new ConsentRepository(db, catchUp);
    this.labels = new LabelRepository(db);
    this.policies = new PolicyRepository(db);
    this.deliveries = new DeliveryRepository(
      db,
      db.dialect.name === 'duckdb' && payloadDir ? new FilePayloads(payloadDir) : new TablePayloads(db),
    );
  }

  get engine(): Database['dialect']['name'] {
    return this.db.dialect.name;
  }

  sourceStats(sourceId: string): Promise<SourceStats> {
    return sourceStats(this.db, sourceId);
  }

  close(): Promise<void> {
    return this.db.close();
  }
}

export interface StoreOptions {
  /** `postgres://...` selects PostgreSQL; unset selects DuckDB in `dataDir`. */
  databaseUrl?: string | undefined;
  dataDir: string;
  /** PostgreSQL schema to use (each test gets its own). */
  schema?: string | undefined;
}

/** Opens the configured engine and brings its schema up to date. */
export async function openStore(options: StoreOptions): Promise<Store> {
  let db: Database;
  if (options.databaseUrl) {
    db = await PostgresDatabase.open(options.databaseUrl, options.schema);
  } else {
    await mkdir(options.dataDir, { recursive: true });
    db = await DuckDBDatabase.open(join(options.dataDir, 'sluice.duckdb'));
  }
  try {
    await migrate(db);
  } catch (err) {
    // A store that cannot be brought up to date is not left open (a DuckDB file stays locked);
    // the error that says why is the one reported.
    await db.close().catch(() => {});
    throw err;
  }
  return new Store(db, options.databaseUrl ? undefined : join(options.dataDir, 'outbox'));
}
