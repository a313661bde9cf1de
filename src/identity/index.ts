export { ComputedTraits, computedTraitsSql, traitAggregateSql } from './computed-traits.js';
export {
  type CustomerProfile,
  customerProfile,
  explainIdentity,
  type IdentityExplanation,
} from './customer-profile.js';
export { type GraphChange, type Identifier, IdentityGraph, type ObservationRef } from './identity-graph.js';
export {
  IdentityService,
  type ProfileChanges,
  type ProvisionalProfile,
  type StitchSummary,
} from './identity-service.js';
export { type MatchReview, matchReviews } from './match-reviews.js';
export { IdentifierNormalizer, type NormalizedIdentifier } from './normalize-identifier.js';
export type { MatchingSummary } from './probabilistic-pass.js';
export { attributeObservations, ProfileAttributes } from './profile-attributes.js';
export { type AttributeObservation, type UnifiedAttribute, unifyAttributes } from './survivorship.js';
export { UnionFind } from './union-find.js';
