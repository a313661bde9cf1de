import { UserError } from '../core/index.js';
import type { Database } from './database.js';
import type { Dialect } from './dialect.js';

interface Migration {
  version: number;
  name: string;
  /** Statements in order; written once, with the dialect's types where the engines differ. */
  statements: (d: Dialect) => string[];
}

// Append only: a migration that has shipped is never edited, a new one is added.
const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'sources, keys, events, profile records, rejects, imports',
    statements: (d) => [
      `CREATE TABLE counters (name VARCHAR PRIMARY KEY, value BIGINT NOT NULL)`,
      `INSERT INTO counters (name, value) VALUES ('events', 0), ('profile_records', 0), ('rejects', 0)`,
      `CREATE TABLE sources (
        id VARCHAR PRIMARY KEY,
        name VARCHAR NOT NULL UNIQUE,
        kind VARCHAR NOT NULL,
        description VARCHAR,
        write_key VARCHAR NOT NULL UNIQUE,
        created_at TIMESTAMPTZ NOT NULL
      )`,
      `CREATE TABLE api_keys (
        id VARCHAR PRIMARY KEY,
        name VARCHAR NOT NULL,
        key_hash VARCHAR NOT NULL UNIQUE,
        prefix VARCHAR NOT NULL,
        created_at TIMESTAMPTZ NOT NULL,
        revoked_at TIMESTAMPTZ
      )`,
      `CREATE TABLE events (
        seq BIGINT NOT NULL,
        message_id VARCHAR NOT NULL,
        source_id VARCHAR NOT NULL,
        type VARCHAR NOT NULL,
        user_id VARCHAR,
        anonymous_id VARCHAR,
        event VARCHAR,
        group_id VARCHAR,
        previous_id VARCHAR,
        timestamp TIMESTAMPTZ NOT NULL,
        original_timestamp TIMESTAMPTZ,
        sent_at TIMESTAMPTZ,
        received_at TIMESTAMPTZ NOT NULL,
        properties ${d.jsonType},
        traits ${d.jsonType},
        context ${d.jsonType},
        import_id VARCHAR
      )`,
      `CREATE TABLE profile_records (
        seq BIGINT NOT NULL,
        record_id VARCHAR NOT NULL,
        source_id VARCHAR NOT NULL,
        import_id VARCHAR,
        row_number BIGINT,
        identifiers ${d.jsonType} NOT NULL,
        attributes ${d.jsonType} NOT NULL,
        received_at TIMESTAMPTZ NOT NULL
      )`,
      `CREATE TABLE rejects (
        seq BIGINT NOT NULL,
        source_id VARCHAR NOT NULL,
        import_id VARCHAR,
        row_number BIGINT,
        message_id VARCHAR,
        reason VARCHAR NOT NULL,
        path VARCHAR,
        payload VARCHAR,
        received_at TIMESTAMPTZ NOT NULL
      )`,
      `CREATE TABLE imports (
        id VARCHAR PRIMARY KEY,
        source_id VARCHAR NOT NULL,
        file_name VARCHAR NOT NULL,
        file_sha256 VARCHAR NOT NULL,
        format VARCHAR NOT NULL,
        status VARCHAR NOT NULL,
        rows_read BIGINT NOT NULL DEFAULT 0,
        rows_stored BIGINT NOT NULL DEFAULT 0,
        rows_rejected BIGINT NOT NULL DEFAULT 0,
        error VARCHAR,
        started_at TIMESTAMPTZ NOT NULL,
        finished_at TIMESTAMPTZ
      )`,
      // DuckDB scans columns with zone maps; PostgreSQL needs indexes, and enforces messageId
      // uniqueness so that several Sluice processes sharing one database still store each event once.
      ...(d.name === 'postgres'
        ? [
            `CREATE UNIQUE INDEX events_source_message ON events (source_id, message_id)`,
            `CREATE INDEX events_source_received ON events (source_id, received_at)`,
            `CREATE INDEX events_user ON events (user_id)`,
            `CREATE INDEX events_seq ON events (seq)`,
            `CREATE INDEX profile_records_source ON profile_records (source_id, import_id)`,
            `CREATE INDEX rejects_source ON rejects (source_id, seq)`,
          ]
        : []),
    ],
  },
  {
    version: 2,
    name: 'demo ground truth',
    statements: () => [
      // Who is really behind each demo record and anonymous id, for identity-resolution tests.
      `CREATE TABLE demo_truth (
        kind VARCHAR NOT NULL,
        source_id VARCHAR,
        record_key VARCHAR NOT NULL,
        customer_id VARCHAR NOT NULL,
        note VARCHAR
      )`,
    ],
  },
  {
    version: 3,
    name: 'identity graph: identifiers, aliases, record anchors, audit, computed traits',
    statements: (d) => [
      // Dense integer ids in the order identifiers were first seen (the graph's union-find ids).
      `CREATE TABLE identifiers (
        id BIGINT NOT NULL,
        namespace VARCHAR NOT NULL,
        value VARCHAR NOT NULL,
        profile_id VARCHAR NOT NULL,
        shared BOOLEAN NOT NULL,
        first_seen_at TIMESTAMPTZ NOT NULL,
        first_ref_kind VARCHAR NOT NULL,
        first_ref_seq BIGINT NOT NULL,
        first_source_id VARCHAR NOT NULL
      )`,
      `CREATE TABLE profile_aliases (
        alias_id VARCHAR NOT NULL,
        profile_id VARCHAR NOT NULL,
        founder_namespace VARCHAR NOT NULL,
        founder_value VARCHAR NOT NULL,
        merged_at TIMESTAMPTZ NOT NULL
      )`,
      // The identifier each profile record belongs by (its most trusted usable one): it never
      // changes, while the identifier's profile follows merges. An event belongs by its user id,
      // else its anonymous id (see event-profiles.ts), so events need no such row.
      `CREATE TABLE record_anchors (record_seq BIGINT NOT NULL, identifier_id BIGINT NOT NULL)`,
      // Which person keys (one-per-profile identifiers) each identifier was seen with, for finding
      // shared identifiers across restarts.
      `CREATE TABLE identifier_keys (identifier_id BIGINT NOT NULL, key_id BIGINT NOT NULL)`,
      `CREATE TABLE profile_scope (profile_id VARCHAR NOT NULL)`,
      `CREATE TABLE identity_audit (
        seq BIGINT NOT NULL,
        occurred_at TIMESTAMPTZ NOT NULL,
        kind VARCHAR NOT NULL,
        profile_id VARCHAR NOT NULL,
        other_profile_id VARCHAR,
        namespace VARCHAR,
        value VARCHAR,
        reason VARCHAR NOT NULL,
        ref_kind VARCHAR NOT NULL,
        ref_seq BIGINT NOT NULL,
        source_id VARCHAR NOT NULL
      )`,
      `CREATE TABLE identity_state (name VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)`,
      `CREATE TABLE identity_profile_moves (old_id VARCHAR NOT NULL, new_id VARCHAR NOT NULL)`,
      // Probabilistic matches between profile records: merged and refused ones are replayed by a
      // rebuild; pairs near the threshold wait for review.
      `CREATE TABLE identity_matches (
        seq BIGINT NOT NULL,
        left_record BIGINT NOT NULL,
        right_record BIGINT NOT NULL,
        weight DOUBLE PRECISION NOT NULL,
        probability DOUBLE PRECISION NOT NULL,
        status VARCHAR NOT NULL,
        fields ${d.jsonType} NOT NULL,
        matched_at TIMESTAMPTZ NOT NULL
      )`,
      `CREATE TABLE computed_traits (name VARCHAR PRIMARY KEY, definition ${d.jsonType} NOT NULL, created_at TIMESTAMPTZ NOT NULL)`,
      `CREATE TABLE profile_traits (profile_id VARCHAR NOT NULL, name VARCHAR NOT NULL, value VARCHAR, updated_at TIMESTAMPTZ NOT NULL)`,
      ...(d.name === 'postgres'
        ? [
            `CREATE UNIQUE INDEX identifiers_id ON identifiers (id)`,
            `CREATE UNIQUE INDEX identifiers_value ON identifiers (namespace, value)`,
            `CREATE INDEX identifiers_profile ON identifiers (profile_id)`,
            `CREATE INDEX profile_aliases_alias ON profile_aliases (alias_id)`,
            `CREATE INDEX record_anchors_identifier ON record_anchors (identifier_id)`,
            `CREATE INDEX identity_audit_profile ON identity_audit (profile_id)`,
            `CREATE INDEX identity_audit_other ON identity_audit (other_profile_id)`,
            `CREATE INDEX events_anonymous ON events (anonymous_id)`,
            `CREATE INDEX profile_traits_profile ON profile_traits (profile_id)`,
          ]
        : []),
    ],
  },
  {
    version: 4,
    name: 'segments, memberships and their ledger, profile attributes',
    statements: (d) => [
      `INSERT INTO counters (name, value) VALUES ('segment_changes', 0)`,
      `CREATE TABLE segments (
        id VARCHAR PRIMARY KEY,
        name VARCHAR NOT NULL UNIQUE,
        description VARCHAR,
        definition ${d.jsonType} NOT NULL,
        mode VARCHAR NOT NULL,
        mode_reason VARCHAR,
        created_at TIMESTAMPTZ NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL
      )`,
      // The current members; every entry and exit is also a row of segment_changes (the ledger).
      `CREATE TABLE segment_members (
        segment_id VARCHAR NOT NULL,
        profile_id VARCHAR NOT NULL,
        since TIMESTAMPTZ NOT NULL
      )`,
      `CREATE TABLE segment_changes (
        seq BIGINT NOT NULL,
        segment_id VARCHAR NOT NULL,
        profile_id VARCHAR NOT NULL,
        entered BOOLEAN NOT NULL,
        changed_at TIMESTAMPTZ NOT NULL,
        mode VARCHAR NOT NULL,
        reason ${d.jsonType} NOT NULL
      )`,
      // Entries and exits about to be written to the ledger and applied to the members.
      `CREATE TABLE segment_diff (segment_id VARCHAR NOT NULL, profile_id VARCHAR NOT NULL, entered BOOLEAN NOT NULL, changed_at TIMESTAMPTZ NOT NULL, reason ${d.jsonType} NOT NULL)`,
      // Each profile's unified attributes (survivorship applied), kept for segment evaluation.
      `CREATE TABLE profile_attributes (profile_id VARCHAR NOT NULL, name VARCHAR NOT NULL, value VARCHAR, updated_at TIMESTAMPTZ NOT NULL)`,
      ...(d.name === 'postgres'
        ? [
            // Text that looks like a time can still fail to cast (2026-02-30): NULL instead of an error.
            `CREATE FUNCTION sluice_timestamptz(t text) RETURNS timestamptz LANGUAGE plpgsql STABLE AS $f$
             BEGIN RETURN t::timestamptz; EXCEPTION WHEN others THEN RETURN NULL; END $f$`,
            `CREATE INDEX segment_changes_segment ON segment_changes (segment_id, seq)`,
            `CREATE INDEX segment_changes_seq ON segment_changes (seq)`,
            `CREATE UNIQUE INDEX segment_members_key ON segment_members (segment_id, profile_id)`,
            `CREATE INDEX segment_members_profile ON segment_members (profile_id)`,
            `CREATE INDEX profile_attributes_profile ON profile_attributes (profile_id)`,
          ]
        : []),
    ],
  },
  {
    version: 5,
    name: 'destinations, the delivery outbox, its rows and attempts',
    statements: (d) => [
      `INSERT INTO counters (name, value) VALUES ('deliveries', 0)`,
      `CREATE TABLE destinations (
        id VARCHAR PRIMARY KEY,
        name VARCHAR NOT NULL UNIQUE,
        connector VARCHAR NOT NULL,
        config ${d.jsonType} NOT NULL,
        secrets VARCHAR,
        settings ${d.jsonType} NOT NULL,
        enabled BOOLEAN NOT NULL,
        disabled_reason VARCHAR,
        created_at TIMESTAMPTZ NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL
      )`,
      // One row per batch to send; its id is the idempotency key (run, destination, operation, batch).
      `CREATE TABLE deliveries (
        id VARCHAR PRIMARY KEY,
        seq BIGINT NOT NULL,
        destination_id VARCHAR NOT NULL,
        activation_id VARCHAR NOT NULL,
        activation_name VARCHAR NOT NULL,
        run_id VARCHAR NOT NULL,
        group_name VARCHAR,
        run_at TIMESTAMPTZ NOT NULL,
        operation VARCHAR NOT NULL,
        batch_index INTEGER NOT NULL,
        batch_count INTEGER NOT NULL,
        fields ${d.jsonType} NOT NULL,
        row_count BIGINT NOT NULL,
        status VARCHAR NOT NULL,
        attempts INTEGER NOT NULL,
        next_attempt_at TIMESTAMPTZ NOT NULL,
        lease_owner VARCHAR,
        lease_until TIMESTAMPTZ,
        created_at TIMESTAMPTZ NOT NULL,
        window_started_at TIMESTAMPTZ,
        last_attempt_at TIMESTAMPTZ,
        finished_at TIMESTAMPTZ,
        last_error VARCHAR,
        last_status INTEGER,
        accepted BIGINT,
        rejected BIGINT,
        rejections ${d.jsonType},
        detail ${d.jsonType},
        duration_ms BIGINT
      )`,
      // The rows of a delivery until the destination confirms them (kept for replay when it never does),
      // in chunks: a JSON array of up to 10,000 rows per table row, from `position` on.
      `CREATE TABLE delivery_rows (delivery_id VARCHAR NOT NULL, position BIGINT NOT NULL, row_count INTEGER NOT NULL, records ${d.name === 'postgres' ? 'TEXT' : 'VARCHAR'} NOT NULL)`,
      `CREATE TABLE delivery_attempts (
        delivery_id VARCHAR NOT NULL,
        attempt INTEGER NOT NULL,
        started_at TIMESTAMPTZ NOT NULL,
        duration_ms BIGINT NOT NULL,
        outcome VARCHAR NOT NULL,
        status INTEGER,
        error VARCHAR
      )`,
      ...(d.name === 'postgres'
        ? [
            `CREATE INDEX deliveries_queue ON deliveries (destination_id, status, seq)`,
            `CREATE INDEX deliveries_run ON deliveries (run_id)`,
            `CREATE INDEX delivery_rows_delivery ON delivery_rows (delivery_id, position)`,
            `CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id)`,
          ]
        : []),
    ],
  },
  {
    version: 6,
    name: 'durable schedules',
    statements: (d) => [
      // One row per scheduled subject (`campaign:cmp_...`); `next_run_at` NULL when nothing is due any more.
      `CREATE TABLE schedules (
        id VARCHAR PRIMARY KEY,
        kind VARCHAR NOT NULL,
        subject_id VARCHAR NOT NULL,
        schedule ${d.jsonType} NOT NULL,
        next_run_at TIMESTAMPTZ,
        paused BOOLEAN NOT NULL,
        lease_owner VARCHAR,
        lease_until TIMESTAMPTZ,
        last_due_at TIMESTAMPTZ,
        last_started_at TIMESTAMPTZ,
        last_finished_at TIMESTAMPTZ,
        last_error VARCHAR,
        runs INTEGER NOT NULL,
        created_at TIMESTAMPTZ NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL
      )`,
      ...(d.name === 'postgres' ? [`CREATE INDEX schedules_due ON schedules (next_run_at)`] : []),
    ],
  },
  {
    version: 7,
    name: 'audience syncs',
    statements: (d) => [
      // `cursor`: the last membership-ledger seq sent; NULL until the first full sync is enqueued.
      `CREATE TABLE audience_syncs (
        id VARCHAR PRIMARY KEY,
        name VARCHAR NOT NULL UNIQUE,
        segment_id VARCHAR NOT NULL,
        destination_id VARCHAR NOT NULL,
        fields ${d.jsonType} NOT NULL,
        cursor BIGINT,
        last_synced_at TIMESTAMPTZ,
        last_error VARCHAR,
        created_at TIMESTAMPTZ NOT NULL
      )`,
    ],
  },
  {
    version: 8,
    name: 'profile scopes of their own',
    statements: () => [
      // Each use lists its profiles under its own id: concurrent uses shared one list before.
      `DELETE FROM profile_scope`,
      `ALTER TABLE profile_scope ADD COLUMN scope_id VARCHAR`,
    ],
  },
  {
    version: 9,
    name: 'campaigns, destination default attributes, the contact policy and contact log',
    statements: (d) => [
      // Definitions and field mappings as JSON text: JSONB would reorder keys, and a mapping's order is the file's column order.
      `CREATE TABLE campaigns (
        id VARCHAR PRIMARY KEY,
        name VARCHAR NOT NULL UNIQUE,
        status VARCHAR NOT NULL,
        definition VARCHAR NOT NULL,
        created_at TIMESTAMPTZ NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL
      )`,
      // One row per run (the id is the campaign and the due time, so a run retried after a crash is the same run).
      // `planned`: the run's plan (each profile's outcome, the audience, the contacts) is committed; what remains is sending it.
      `CREATE TABLE campaign_runs (
        id VARCHAR PRIMARY KEY,
        campaign_id VARCHAR NOT NULL,
        status VARCHAR NOT NULL,
        planned BOOLEAN NOT NULL,
        due_at TIMESTAMPTZ NOT NULL,
        started_at TIMESTAMPTZ NOT NULL,
        finished_at TIMESTAMPTZ,
        counts ${d.jsonType},
        error VARCHAR
      )`,
      // What each run did with each newly qualified profile, per destination (NULL for control and unmatched).
      `CREATE TABLE campaign_members (
        run_id VARCHAR NOT NULL,
        campaign_id VARCHAR NOT NULL,
        profile_id VARCHAR NOT NULL,
        sub_audience VARCHAR,
        treatment VARCHAR,
        destination_id VARCHAR,
        outcome VARCHAR NOT NULL,
        reason VARCHAR
      )`,
      // A campaign's audience at its last completed run; \`handled\`: sent or held out as control (by that run or an earlier one).
      `CREATE TABLE campaign_audience (
        campaign_id VARCHAR NOT NULL,
        profile_id VARCHAR NOT NULL,
        run_id VARCHAR NOT NULL,
        handled BOOLEAN NOT NULL
      )`,
      // A destination's default attributes for campaigns: destination field -> source.
      `CREATE TABLE destination_default_fields (
        destination_id VARCHAR PRIMARY KEY,
        fields VARCHAR NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL
      )`,
      // The workspace's settings by name (the contact policy is one), as JSON.
      `CREATE TABLE workspace_settings (name VARCHAR PRIMARY KEY, value ${d.jsonType} NOT NULL, updated_at TIMESTAMPTZ NOT NULL)`,
      // Every contact made, per profile and channel, for frequency caps.
      `CREATE TABLE contact_log (
        profile_id VARCHAR NOT NULL,
        channel VARCHAR NOT NULL,
        activation_id VARCHAR NOT NULL,
        run_id VARCHAR NOT NULL,
        contacted_at TIMESTAMPTZ NOT NULL
      )`,
      ...(d.name === 'postgres'
        ? [
            `CREATE INDEX contact_log_profile ON contact_log (profile_id, channel, contacted_at)`,
            `CREATE INDEX campaign_runs_campaign ON campaign_runs (campaign_id, due_at)`,
            `CREATE INDEX campaign_members_run ON campaign_members (run_id)`,
            `CREATE INDEX campaign_members_campaign ON campaign_members (campaign_id, profile_id)`,
            `CREATE INDEX campaign_audience_campaign ON campaign_audience (campaign_id, profile_id)`,
          ]
        : []),
    ],
  },
  {
    version: 10,
    name: 'orchestrations and their runs',
    statements: (d) => [
      // `columns`: the query's output columns when it was last checked or run (for data-usage policies).
      `CREATE TABLE orchestrations (
        id VARCHAR PRIMARY KEY,
        name VARCHAR NOT NULL UNIQUE,
        query VARCHAR NOT NULL,
        destination_id VARCHAR NOT NULL,
        schedule ${d.jsonType} NOT NULL,
        skip_unchanged BOOLEAN NOT NULL,
        enabled BOOLEAN NOT NULL,
        columns ${d.jsonType} NOT NULL,
        created_at TIMESTAMPTZ NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL
      )`,
      // One row per due time (`id` says which: `<orchestration>.<due time>`), so a repeated run
      // finds its row. `run_id`: the outbox run its rows went out under; NULL when nothing was enqueued.
      `CREATE TABLE orchestration_runs (
        id VARCHAR PRIMARY KEY,
        orchestration_id VARCHAR NOT NULL,
        status VARCHAR NOT NULL,
        due_at TIMESTAMPTZ NOT NULL,
        started_at TIMESTAMPTZ NOT NULL,
        finished_at TIMESTAMPTZ,
        row_count BIGINT,
        result_hash VARCHAR,
        skipped BOOLEAN NOT NULL,
        error VARCHAR,
        run_id VARCHAR
      )`,
      ...(d.name === 'postgres'
        ? [`CREATE INDEX orchestration_runs_orchestration ON orchestration_runs (orchestration_id, due_at)`]
        : []),
    ],
  },
  {
    version: 11,
    name: 'governance: consent statements, destination purposes and marketing actions, data-usage labels and policies',
    statements: (d) => [
      // Each statement sits beside the event or record that made it (`ref_kind`, `ref_seq`); its
      // profile is found when read (see consent-repository.ts), so it follows merges.
      `CREATE TABLE consent_statements (
        ref_kind VARCHAR NOT NULL,
        ref_seq BIGINT NOT NULL,
        source_id VARCHAR NOT NULL,
        user_id VARCHAR,
        anonymous_id VARCHAR,
        purpose VARCHAR NOT NULL,
        granted BOOLEAN NOT NULL,
        stated_at TIMESTAMPTZ NOT NULL,
        dated BOOLEAN NOT NULL
      )`,
      `ALTER TABLE destinations ADD COLUMN purpose VARCHAR`,
      `ALTER TABLE destinations ADD COLUMN marketing_actions ${d.jsonType}`,
      // Labels of a field source as activations write it: `email`, `trait:ltv`, `identifier:email`.
      `CREATE TABLE data_labels (attribute VARCHAR PRIMARY KEY, labels ${d.jsonType} NOT NULL, updated_at TIMESTAMPTZ NOT NULL)`,
      `CREATE TABLE policies (
        id VARCHAR PRIMARY KEY,
        name VARCHAR NOT NULL UNIQUE,
        description VARCHAR,
        labels ${d.jsonType} NOT NULL,
        marketing_actions ${d.jsonType} NOT NULL,
        enabled BOOLEAN NOT NULL,
        created_at TIMESTAMPTZ NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL
      )`,
      // How far each sync has read consent (identity's cursors when it last looked), for which
      // purpose, and the members it holds back from the destination with why.
      `ALTER TABLE audience_syncs ADD COLUMN consent_cursor ${d.jsonType}`,
      `ALTER TABLE audience_syncs ADD COLUMN purpose VARCHAR`,
      `ALTER TABLE audience_syncs ADD COLUMN last_step ${d.jsonType}`,
      `CREATE TABLE audience_sync_suppressed (sync_id VARCHAR NOT NULL, profile_id VARCHAR NOT NULL, reason VARCHAR NOT NULL)`,
      ...(d.name === 'postgres'
        ? [
            `CREATE INDEX consent_statements_ref ON consent_statements (ref_kind, ref_seq)`,
            `CREATE INDEX consent_statements_user ON consent_statements (user_id)`,
            `CREATE INDEX consent_statements_anonymous ON consent_statements (anonymous_id)`,
            `CREATE INDEX record_anchors_record ON record_anchors (record_seq)`,
            `CREATE UNIQUE INDEX audience_sync_suppressed_key ON audience_sync_suppressed (sync_id, profile_id)`,
          ]
        : []),
    ],
  },
  {
    version: 12,
    name: 'segment members may lag the ledger: how far they are applied',
    statements: () => [
      // Every ledger change so far is in the members (they were applied in the same transaction).
      `INSERT INTO counters (name, value) SELECT 'segment_members_through', coalesce(max(seq), 0) FROM segment_changes`,
    ],
  },
  {
    version: 13,
    name: 'batch evaluation writes its changes straight to the ledger',
    statements: () => ['DROP TABLE segment_diff'],
  },
  {
    version: 14,
    name: 'the ledger refers to the event that caused a change instead of copying it',
    statements: () => [
      // Set for a change an event caused (then the reason is null, and read from the event).
      'ALTER TABLE segment_changes ADD COLUMN event_seq BIGINT',
      'ALTER TABLE segment_changes ALTER COLUMN reason DROP NOT NULL',
    ],
  },
];

/** Brings the schema up to date; safe to run on every start and from several processes. */
export async function migrate(db: Database): Promise<number[]> {
  // Under the lock too: two processes creating the table at once on PostgreSQL, each seeing none,
  // would both create its row type, and one would fail.
  await db.transaction(async (tx) => {
    await lockMigrations(tx);
    await tx.query(
      `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)`,
    );
  });
  const applied: number[] = [];
  for (const m of MIGRATIONS) {
    const done = await db.transaction(async (tx) => {
      await lockMigrations(tx);
      // Under the lock, so that no newer Sluice migrates between the check and this migration.
      await refuseNewer(tx);
      const rows = await tx.query('SELECT version FROM schema_migrations WHERE version = $1', [m.version]);
      if (rows.length > 0) return false;
      for (const sql of m.statements(tx.dialect)) await tx.query(sql);
      await tx.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
        m.version,
        m.name,
        new Date(),
      ]);
      return true;
    });
    if (done) applied.push(m.version);
  }
  return applied;
}

/**
 * On PostgreSQL, one process at a time migrates (until `tx` ends); a DuckDB file has one process.
 * The same lock guards creating the store's schema (`PostgresDatabase.open`).
 */
export async function lockMigrations(tx: Database): Promise<void> {
  if (tx.dialect.name === 'postgres') await tx.query('SELECT pg_advisory_xact_lock(727274)');
}

/** A store a newer Sluice has migrated holds tables and meanings this version does not know. */
async function refuseNewer(tx: Database): Promise<void> {
  const [newest] = await tx.query<{ version: number | null }>(
    'SELECT max(version) AS version FROM schema_migrations',
  );
  const known = MIGRATIONS[MIGRATIONS.length - 1]!.version;
  if (Number(newest?.version ?? 0) <= known) return;
  throw new UserError(
    'store_too_new',
    `the store is at schema version ${newest?.version}, written by a newer Sluice; this one knows ` +
      `versions up to ${known}: run the newer Sluice, or open a store of this version`,
  );
}
