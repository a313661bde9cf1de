import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';
import { UserError } from './core/index.js';

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    const c = loadConfig({});
    expect(c.port).toBe(4100);
    expect(c.dataDir).toBe('./.sluice');
    expect(c.databaseUrl).toBeUndefined();
    expect(c.limits).toEqual({ maxEventBytes: 32768, maxRequestBytes: 512000, maxBatchEvents: 2500 });
    expect(c.ingest.dedupeWindowHours).toBe(24);
    expect(c.demo).toBe(true);
  });

  it('reads the environment and lets flags override it; empty variables count as unset', () => {
    const c = loadConfig(
      { SLUICE_PORT: '5000', SLUICE_DATA_DIR: '', SLUICE_DEMO: 'false', SLUICE_MAX_BATCH_EVENTS: '10' },
      { port: '6000' },
    );
    expect(c.port).toBe(6000);
    expect(c.dataDir).toBe('./.sluice');
    expect(c.demo).toBe(false);
    expect(c.limits.maxBatchEvents).toBe(10);
  });

  it('names every bad setting', () => {
    try {
      loadConfig({ SLUICE_PORT: 'abc', SLUICE_DATABASE_URL: 'mysql://x', SLUICE_ADMIN_KEY: 'short' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(UserError);
      const paths = (err as UserError).issues.map((i) => i.path.join('.'));
      expect(paths).toEqual(expect.arrayContaining(['port', 'databaseUrl', 'adminKey']));
    }
  });
});
