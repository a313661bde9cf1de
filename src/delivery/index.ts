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
export { parseRetryAfter, sendHttp } from './http-delivery.js';
export { secret, secretFieldsOf } from './secret-fields.js';
