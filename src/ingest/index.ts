export { DedupeWindow } from './dedupe-window.js';
export { EventWriter, type EventWriterOptions, type SubmitResult } from './event-writer.js';
export * from './import/index.js';
export { type BatchEnvelope, type NormalizeResult, normalizeEvent } from './normalize-event.js';
