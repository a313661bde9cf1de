export { type BreakerState, CircuitBreaker } from './circuit-breaker.js';
export {
  type Connector,
  type ConnectorCapabilities,
  type ConnectorContext,
  type ConnectorField,
  type DeliveryBatch,
  DeliveryFailure,
  type DeliveryRecord,
  type DeliveryResult,
  defineConnector,
  type FailureDisposition,
} from './connector.js';
export { type ConnectorInfo, ConnectorRegistry } from './connector-registry.js';
export { DeliveryEngine, type DeliveryEngineOptions } from './delivery-engine.js';
export { type Delivery, type DeliveryOptions, openDelivery } from './delivery-module.js';
export { replayDeadOf, replayDelivery } from './delivery-replay.js';
export { DestinationService, type DestinationTest, type DestinationView } from './destination-service.js';
export { parseRetryAfter, sendHttp } from './http-delivery.js';
export { type Enqueued, type EnqueueRequest, Outbox } from './outbox.js';
export { retryDelay } from './retry-policy.js';
export { SecretBox } from './secret-box.js';
export { secret, secretFieldsOf } from './secret-fields.js';
export { fromValueLines, toValueLines } from './value-lines.js';
