import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UserError } from '../core/index.js';
import { ENGINES, openTestStore, type TestStore } from '../test-support/engines.js';
import { type ScheduledRun, Scheduler } from './scheduler.js';

const silent = { info: () => {}, error: () => {} };

describe.each(ENGINES)('the scheduler on %s', (engine) => {
  let t: TestStore;
  let now: Date;
  let runs: ScheduledRun[];
  const at = (iso: string) => {
    now = new Date(iso);
  };
  const scheduler = (options: { leaseMs?: number } = {}) => {
    const s = new Scheduler(t.store, { log: silent, now: () => now, ...options });
    s.handle('campaign', async (run) => {
      runs.push(run);
    });
    return s;
  };

  beforeEach(async () => {
    t = await openTestStore(engine);
    runs = [];
    at('2026-03-27T12:00:00Z');
  });
  afterEach(async () => {
    await t.cleanup();
  });

  it('runs a schedule for now once, and one at a time only when it is due', async () => {
    const s = scheduler();
    await s.schedule('campaign', 'cmp_now', { kind: 'now' });
    await s.schedule('campaign', 'cmp_at', { kind: 'at', at: '2026-03-27T15:00:00+01:00' });
    expect(await s.tick()).toBe(1);
    expect(runs.map((r) => r.subjectId)).toEqual(['cmp_now']);
    at('2026-03-27T13:59:59Z');
    expect(await s.tick()).toBe(0);
    at('2026-03-27T14:00:00Z');
    expect(await s.tick()).toBe(1);
    at('2026-03-30T00:00:00Z');
    expect(await s.tick()).toBe(0);
    expect(runs.map((r) => [r.subjectId, r.dueAt.toISOString()])).toEqual([
      ['cmp_now', '2026-03-27T12:00:00.000Z'],
      ['cmp_at', '2026-03-27T14:00:00.000Z'],
    ]);
    expect((await t.store.schedules.get('campaign', 'cmp_at'))!.nextRunAt).toBeUndefined();
  });

  it('runs a recurrence at its local time across a daylight saving change', async () => {
    const s = scheduler();
    await s.schedule('campaign', 'cmp_daily', {
      kind: 'recurring',
      cron: '0 9 * * *',
      timeZone: 'Europe/Paris',
    });
    // Paris moves to summer time on 2026-03-29: 09:00 is 08:00 UTC before, 07:00 UTC after.
    for (const day of ['2026-03-28', '2026-03-29', '2026-03-30']) {
      at(`${day}T06:59:00Z`);
      await s.tick();
      at(`${day}T09:00:00Z`);
      await s.tick();
    }
    expect(runs.map((r) => r.dueAt.toISOString())).toEqual([
      '2026-03-28T08:00:00.000Z',
      '2026-03-29T07:00:00.000Z',
      '2026-03-30T07:00:00.000Z',
    ]);
  });

  it('after downtime across several scheduled times, runs a recurrence once, then at its next time', async () => {
    const s = scheduler();
    await s.schedule('campaign', 'cmp_daily', { kind: 'recurring', cron: '0 9 * * *', timeZone: 'UTC' });
    at('2026-04-02T15:30:00Z'); // down since before 2026-03-28 09:00: five daily ticks missed
    expect(await s.tick()).toBe(1);
    expect(await s.tick()).toBe(0);
    expect(runs[0]!.dueAt.toISOString()).toBe('2026-03-28T09:00:00.000Z');
    expect((await t.store.schedules.get('campaign', 'cmp_daily'))!.nextRunAt!.toISOString()).toBe(
      '2026-04-03T09:00:00.000Z',
    );
  });

  it('keeps to the launch and end dates of a recurrence', async () => {
    const s = scheduler();
    await s.schedule('campaign', 'cmp_window', {
      kind: 'recurring',
      cron: '0 9 * * *',
      startAt: '2026-04-01T09:00:00Z',
      endAt: '2026-04-02T12:00:00Z',
    });
    for (const day of ['2026-03-31', '2026-04-01', '2026-04-02', '2026-04-03']) {
      at(`${day}T10:00:00Z`);
      await s.tick();
    }
    expect(runs.map((r) => r.dueAt.toISOString())).toEqual([
      '2026-04-01T09:00:00.000Z',
      '2026-04-02T09:00:00.000Z',
    ]);
  });

  it('never runs one subject twice at once, and takes over a run whose process died', async () => {
    let release: () => void = () => {};
    const slow = new Scheduler(t.store, { log: silent, now: () => now, leaseMs: 15 * 60_000 });
    let started = 0;
    slow.handle('campaign', async () => {
      started += 1;
      await new Promise<void>((resolve) => {
        release = resolve;
      });
    });
    const other = scheduler();
    await slow.schedule('campaign', 'cmp_slow', { kind: 'recurring', cron: '*/5 * * * *' });
    at('2026-03-27T12:05:00Z');
    const first = slow.tick();
    await new Promise((r) => setTimeout(r, 100));
    at('2026-03-27T12:10:00Z');
    // Due again, but still running under its lease: neither this process nor another starts it.
    expect(await other.tick()).toBe(0);
    expect(started).toBe(1);
    // The holder died (its renewals stopped): once its lease runs out, another process runs the subject.
    at('2026-03-27T12:20:01Z');
    expect(await other.tick()).toBe(1);
    expect(runs).toHaveLength(1);
    release();
    await first;
  });

  it('records a failed run and goes on with the recurrence', async () => {
    const s = new Scheduler(t.store, { log: silent, now: () => now });
    s.handle('campaign', async () => {
      throw new Error('segment vanished');
    });
    await s.schedule('campaign', 'cmp_fail', { kind: 'recurring', cron: '0 * * * *' });
    at('2026-03-27T13:00:00Z');
    await s.tick();
    const stored = (await t.store.schedules.get('campaign', 'cmp_fail'))!;
    expect(stored.lastError).toBe('segment vanished');
    expect(stored.runs).toBe(1);
    expect(stored.nextRunAt!.toISOString()).toBe('2026-03-27T14:00:00.000Z');
  });

  it('pauses and resumes a schedule', async () => {
    const s = scheduler();
    await s.schedule('campaign', 'cmp_p', { kind: 'recurring', cron: '0 9 * * *' });
    await s.pause('campaign', 'cmp_p');
    at('2026-03-29T10:00:00Z');
    expect(await s.tick()).toBe(0);
    await s.resume('campaign', 'cmp_p');
    expect(await s.tick()).toBe(1);
  });

  it('refuses a bad schedule, naming the field', async () => {
    const s = scheduler();
    const bad = async (input: unknown) => {
      const error = await s.schedule('campaign', 'cmp_bad', input).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UserError);
      return (error as UserError).issues.map((i) => i.path.join('.'));
    };
    expect(await bad({ kind: 'recurring', cron: 'every day' })).toEqual(['schedule.cron']);
    expect(await bad({ kind: 'recurring', cron: '0 9 * * *', timeZone: 'Mars/Olympus' })).toEqual([
      'schedule.timeZone',
    ]);
    expect(await bad({ kind: 'at', at: 'tomorrow' })).toEqual(['schedule.at']);
    expect(await bad({ kind: 'weekly' })).toEqual(['schedule.kind']);
    expect(await t.store.schedules.get('campaign', 'cmp_bad')).toBeUndefined();
  });
});
