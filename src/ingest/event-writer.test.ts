import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RetryableError, type StoredEvent } from '../core/index.js';
import { ENGINES, openTestStore, type TestStore } from '../test-support/engines.js';
import { EventWriter } from './event-writer.js';

const options = { commitDelayMs: 1, maxPendingEvents: 1000, dedupeWindowMs: 86_400_000 };

function event(messageId: string, sourceId = 'src_1'): StoredEvent {
  const now = new Date();
  return {
    messageId,
    sourceId,
    type: 'track',
    userId: 'u1',
    anonymousId: null,
    event: 'Signed Up',
    groupId: null,
    previousId: null,
    timestamp: now,
    originalTimestamp: null,
    sentAt: null,
    receivedAt: now,
    properties: {},
    traits: {},
    context: {},
  };
}

describe.each(ENGINES)('EventWriter on %s', (engine) => {
  let t: TestStore;
  beforeEach(async () => {
    t = await openTestStore(engine);
  });
  afterEach(async () => {
    await t.cleanup();
  });

  it('stores concurrent submissions in one commit and answers each once durable', async () => {
    const w = new EventWriter(t.store, options);
    const results = await Promise.all([w.submit([event('a'), event('b')]), w.submit([event('c')])]);
    expect(results).toEqual([
      { stored: 2, duplicates: 0 },
      { stored: 1, duplicates: 0 },
    ]);
    expect((await t.store.events.query({ limit: 10 })).map((e) => e.messageId).sort()).toEqual([
      'a',
      'b',
      'c',
    ]);
  });

  it('dedupes per source, within a submission, across submissions and across restarts', async () => {
    const w = new EventWriter(t.store, options);
    expect(await w.submit([event('a'), event('a')])).toEqual({ stored: 1, duplicates: 1 });
    expect(await w.submit([event('a'), event('a', 'src_2')])).toEqual({ stored: 1, duplicates: 1 });
    const restarted = new EventWriter(t.store, options);
    await restarted.start();
    expect(await restarted.submit([event('a')])).toEqual({ stored: 0, duplicates: 1 });
    expect((await t.store.events.query({ limit: 10 })).length).toBe(2);
  });

  it('refuses with a retryable error when too many events wait', async () => {
    const w = new EventWriter(t.store, { ...options, maxPendingEvents: 3 });
    const first = w.submit([event('a'), event('b'), event('c')]);
    await expect(w.submit([event('d')])).rejects.toMatchObject({ code: 'overloaded' });
    await first;
    expect(await w.submit([event('d')])).toEqual({ stored: 1, duplicates: 0 });
  });

  it('rejects every waiter when the store fails, and accepts the retry afterwards', async () => {
    const w = new EventWriter(t.store, options);
    const append = t.store.events.append.bind(t.store.events);
    t.store.events.append = async () => {
      throw new Error('disk full');
    };
    const failures = await Promise.allSettled([w.submit([event('a')]), w.submit([event('b')])]);
    for (const f of failures) {
      expect(f.status).toBe('rejected');
      expect((f as PromiseRejectedResult).reason).toBeInstanceOf(RetryableError);
    }
    t.store.events.append = append;
    expect(await w.submit([event('a'), event('b')])).toEqual({ stored: 2, duplicates: 0 });
  });

  it('acknowledges a duplicate of an in-flight event only after that event is durable', async () => {
    const w = new EventWriter(t.store, options);
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const append = t.store.events.append.bind(t.store.events);
    t.store.events.append = async (events, importId) => {
      await gate;
      return append(events, importId);
    };
    const original = w.submit([event('a')]);
    let duplicateDone = false;
    const duplicate = w.submit([event('a')]).then((r) => {
      duplicateDone = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(duplicateDone).toBe(false);
    release();
    expect(await original).toEqual({ stored: 1, duplicates: 0 });
    expect(await duplicate).toEqual({ stored: 0, duplicates: 1 });
  });

  it('refuses a duplicate of an in-flight event whose write then fails', async () => {
    const w = new EventWriter(t.store, options);
    let writeStarted!: () => void;
    const started = new Promise<void>((r) => {
      writeStarted = r;
    });
    let failWrite!: (err: Error) => void;
    const append = t.store.events.append.bind(t.store.events);
    t.store.events.append = () => {
      t.store.events.append = append;
      writeStarted();
      return new Promise<number>((_, reject) => {
        failWrite = reject;
      });
    };
    const original = w.submit([event('a')]);
    // The client retries while the first copy is being written.
    await started;
    const retry = w.submit([event('a')]);
    failWrite(new Error('disk full'));
    await expect(original).rejects.toBeInstanceOf(RetryableError);
    await expect(retry).rejects.toBeInstanceOf(RetryableError);
    expect(await w.submit([event('a')])).toEqual({ stored: 1, duplicates: 0 });
    expect((await t.store.events.query({ limit: 10 })).map((e) => e.messageId)).toEqual(['a']);
  });
});
