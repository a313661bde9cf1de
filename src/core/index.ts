export * from './audience-sync-schema.js';
export * from './campaign-schema.js';
export {
  type ComputedTrait,
  ComputedTraitSchema,
  POPULATION_AGGREGATES,
  TRAIT_AGGREGATES,
  type TraitAggregate,
} from './computed-trait-schema.js';
export {
  ConsentPurposeSchema,
  type ConsentStatement,
  consentOfEvent,
  consentOfRecord,
  consentValue,
} from './consent.js';
export * from './contact-policy-schema.js';
export * from './destination-schema.js';
export { AuthError, assertNever, type Issue, NotFoundError, RetryableError, UserError } from './errors.js';
export {
  EVENT_TYPES,
  type EventType,
  eventSchemas,
  type IncomingEvent,
  type StoredEvent,
} from './event-schema.js';
export * from './governance-schema.js';
export {
  BUILT_IN_NAMESPACES,
  IdentifierRefSchema,
  type IdentityConfig,
  IdentityConfigSchema,
  type SurvivorshipRule,
  SurvivorshipRuleSchema,
} from './identity-schema.js';
export { newId } from './ids.js';
export {
  type ColumnSpec,
  ColumnSpecSchema,
  type EventMapping,
  EventMappingSchema,
  FIELD_TYPES,
  type FieldType,
  IMPORT_FORMATS,
  type ImportFormat,
  type ImportMapping,
  ImportMappingSchema,
  type ProfileMapping,
  ProfileMappingSchema,
} from './import-mapping-schema.js';
export * from './matching-schema.js';
export * from './orchestration-schema.js';
export * from './schedule-schema.js';
export { SeededRandom, seededRandom } from './seeded-random.js';
export * from './segment-schema.js';
export { describeCondition } from './segment-sentence.js';
export {
  type CreateSource,
  CreateSourceSchema,
  SOURCE_KINDS,
  type Source,
  type SourceKind,
} from './source-schema.js';
export { isStorableTime } from './storable-time.js';
export { parseOrThrow, toIssues } from './validation.js';
