export type { ApiKey } from './api-key-repository.js';
export type { AttributeSource } from './attribute-repository.js';
export type {
  StoredAudienceSync,
  SyncProgress,
  SyncStepStats,
} from './audience-sync-repository.js';
export type {
  CampaignMemberRow,
  RunDeliveryTotals,
  StoredCampaignRun,
} from './campaign-repository.js';
export type { ConsentCursor, ProfileConsent } from './consent-repository.js';
export type { ContactRow } from './contact-repository.js';
export type { Database, Row, SqlValue, StoreLock } from './database.js';
export type {
  Claim,
  DeliveryAttempt,
  DeliveryReceipt,
  NewDelivery,
  StoredDelivery,
} from './delivery-repository.js';
export type { StoredDestination } from './destination-repository.js';
export { type Dialect, duckdbDialect, postgresDialect } from './dialect.js';
export { DuckDBDatabase } from './duckdb-database.js';
export { EVENT_PROFILE_ID, EVENT_PROFILE_JOIN } from './event-profiles.js';
export type { EventQuery, EventRecord } from './event-repository.js';
export type {
  AuditEntry,
  AuditKind,
  EventIdentityRow,
  IdentifierRow,
  IdentityChanges,
  ProfileAlias,
  RecordIdentityRow,
  RecordOfProfile,
} from './identity-repository.js';
export type { ImportRun, ImportStatus } from './import-repository.js';
export type { AttributeLabels } from './label-repository.js';
export type { MatchableRecord, MatchRow, MatchStatus } from './match-repository.js';
export type {
  EvaluationCounts,
  LedgerChange,
  LedgerRow,
  SegmentEventRow,
} from './membership-repository.js';
export { migrate } from './migrations.js';
export type {
  OrchestrationRun,
  OrchestrationRunStatus,
  StoredOrchestration,
} from './orchestration-repository.js';
export { PostgresDatabase } from './postgres-database.js';
export { postgresWorkspaceNames } from './postgres-workspace-query.js';
export { dropProfileScope, fillProfileScope, scopeFilter } from './profile-scope.js';
export type { ProfileRecord } from './record-repository.js';
export type { Reject } from './reject-repository.js';
export type { StoredSchedule } from './schedule-repository.js';
export type { StoredSegment } from './segment-repository.js';
export type { SourceStats } from './stats-repository.js';
export { storableJson, storableText } from './storable-text.js';
export { openStore, Store, type StoreOptions } from './store.js';
export type { Cell, ReadOptions, WorkspaceQueries } from './workspace-query.js';
export { WORKSPACE_VIEWS, type WorkspaceView } from './workspace-views.js';
