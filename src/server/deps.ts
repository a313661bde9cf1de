import type {
  AudienceSyncService,
  CampaignService,
  ContactPolicyService,
  OrchestrationService,
} from '../activation/index.js';
import type { Config } from '../config.js';
import type { Delivery } from '../delivery/index.js';
import type { IdentityService } from '../identity/index.js';
import type { EventWriter } from '../ingest/index.js';
import type { SegmentService } from '../segments/index.js';
import type { Store } from '../store/index.js';

/** What the HTTP layer is given by the composition root. */
export interface ServerDeps {
  store: Store;
  writer: EventWriter;
  identity: IdentityService;
  segments: SegmentService;
  delivery: Delivery;
  syncs: AudienceSyncService;
  campaigns: CampaignService;
  contactPolicy: ContactPolicyService;
  orchestrations: OrchestrationService;
  config: Config;
  version: string;
}
