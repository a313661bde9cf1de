export {
  ACTIVATION_KINDS,
  type ActivationKind,
  type ActivationSummary,
  listActivations,
} from './activation-list.js';
export { type AudienceSyncOptions, AudienceSyncService } from './audience-sync-service.js';
export {
  type CampaignRunView,
  CampaignService,
  type CampaignServiceOptions,
  type RunCounts,
} from './campaign-service.js';
export { ContactPolicyService, type ContactRequest } from './contact-policy.js';
export {
  type OrchestrationOptions,
  OrchestrationService,
  type OrchestrationView,
  type QueryPreview,
} from './orchestration-service.js';
