export { type AudienceSyncOptions, AudienceSyncService } from './audience-sync-service.js';
