export { evaluationMode } from './evaluation-mode.js';
export {
  type CompiledSql,
  DefaultSegmentCompiler,
  PostgresSegmentCompiler,
  segmentCompiler,
} from './segment-compiler.js';
export { planSegments, type SegmentPlan } from './segment-plan.js';
export { type EvaluationResult, SegmentService, type SegmentServiceOptions } from './segment-service.js';
export type { ProfileChanges, ProfileResolver } from './segment-stream.js';
export {
  type ChangeReason,
  type MembershipChange,
  StreamingEvaluator,
} from './streaming/streaming-evaluator.js';
