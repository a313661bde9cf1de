import { Cron } from 'croner';
import { type Schedule, UserError } from '../core/index.js';

/** Checks what zod cannot: that a recurring schedule's cron expression parses. Issues name `prefix.cron`. */
export function checkSchedule(schedule: Schedule, prefix: (string | number)[] = ['schedule']): void {
  if (schedule.kind !== 'recurring') return;
  try {
    cronOf(schedule);
  } catch (err) {
    const message = `not a cron expression: ${(err as Error).message}`;
    throw new UserError('invalid_input', `invalid schedule at ${[...prefix, 'cron'].join('.')}: ${message}`, [
      { code: 'invalid_cron', path: [...prefix, 'cron'], message },
    ]);
  }
}

/**
 * The first time a schedule is due after `after`, or undefined when it is never due again.
 * `hasRun`: a one-off schedule that ran is done. A recurrence is due at its next tick after
 * `after`, so ticks missed while Sluice was down collapse into the one run that happens now.
 */
export function nextRunAfter(schedule: Schedule, after: Date, hasRun: boolean): Date | undefined {
  switch (schedule.kind) {
    case 'now':
      return hasRun ? undefined : after;
    case 'at':
      return hasRun ? undefined : new Date(schedule.at);
    case 'recurring': {
      const start = schedule.startAt ? new Date(schedule.startAt) : undefined;
      // croner answers strictly after the given time: a run due exactly at startAt counts.
      const from = start && start.getTime() - 1 > after.getTime() ? new Date(start.getTime() - 1) : after;
      const next = cronOf(schedule).nextRun(from) ?? undefined;
      if (next && schedule.endAt && next > new Date(schedule.endAt)) return undefined;
      return next;
    }
  }
}

function cronOf(schedule: Extract<Schedule, { kind: 'recurring' }>): Cron {
  return new Cron(schedule.cron, { timezone: schedule.timeZone, paused: true });
}
