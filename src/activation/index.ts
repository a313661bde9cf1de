export {
  type AudienceSyncOptions,
  AudienceSyncService,
  type AudienceSyncView,
} from './audience-sync-service.js';
export {
  ConsentSuppression,
  type ConsentView,
  PolicyChecker,
  PolicyService,
  policyError,
  type SuppressionReason,
} from './governance/index.js';
