export {
  ACTIVATION_KINDS,
  type ActivationKind,
  type ActivationSummary,
  listActivations,
} from './activation-list.js';
export {
  type AudienceSyncOptions,
  AudienceSyncService,
  type AudienceSyncView,
} from './audience-sync-service.js';
export type { DestinationCounts, GroupCounts, RunCounts } from './campaign-runner.js';
export {
  type CampaignRunView,
  CampaignService,
  type CampaignServiceOptions,
} from './campaign-service.js';
export { ContactPolicyService, type ContactRequest } from './contact-policy.js';
export {
  ConsentSuppression,
  type ConsentView,
  PolicyChecker,
  PolicyService,
  policyError,
  type SuppressionReason,
} from './governance/index.js';
export {
  type OrchestrationOptions,
  OrchestrationService,
  type OrchestrationView,
  type QueryPreview,
} from './orchestration-service.js';
