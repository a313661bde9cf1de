export { type AudienceSyncOptions, AudienceSyncService } from './audience-sync-service.js';
export {
  type OrchestrationOptions,
  OrchestrationService,
  type OrchestrationView,
  type QueryPreview,
} from './orchestration-service.js';
