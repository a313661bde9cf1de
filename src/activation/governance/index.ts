export {
  ConsentSuppression,
  type ConsentView,
  type SuppressionReason,
} from './consent-suppression.js';
export { PolicyChecker, policyError } from './policy-checker.js';
export { PolicyService } from './policy-service.js';
export { querySources } from './query-sources.js';
