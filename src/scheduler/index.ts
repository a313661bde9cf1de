export { checkSchedule, nextRunAfter } from './next-run.js';
export { type RunHandler, type ScheduledRun, Scheduler, type SchedulerOptions } from './scheduler.js';
