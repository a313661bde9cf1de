export { type AudienceSyncOptions, AudienceSyncService } from './audience-sync-service.js';
export {
  ConsentSuppression,
  type ConsentView,
  PolicyChecker,
  PolicyService,
  policyError,
  type SuppressionReason,
} from './governance/index.js';
