import { describe, expect, it } from 'vitest';
import { postgresFailure, redact } from './postgres-failure.js';

const url = 'postgres://app:p%40ss-w0rd@db.internal:6432/crm';

describe('postgresFailure', () => {
  it('refuses a wrong password, naming the server but not the password', () => {
    const failure = postgresFailure(
      { code: '28P01', message: 'password authentication failed for user "app"' },
      url,
    );
    expect(failure.disposition).toBe('refused');
    expect(failure.message).toBe(
      'postgres db.internal:6432/crm: password authentication failed for user "app": check the user and password in connectionString',
    );
  });

  it('retries network faults, transient SQLSTATEs and dropped connections; refuses other SQL errors', () => {
    expect(
      postgresFailure(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), url)
        .disposition,
    ).toBe('retry');
    expect(postgresFailure({ code: '40P01', message: 'deadlock detected' }, url).disposition).toBe('retry');
    expect(
      postgresFailure({ code: '57P03', message: 'the database system is starting up' }, url).disposition,
    ).toBe('retry');
    expect(postgresFailure(new Error('Connection terminated unexpectedly'), url).disposition).toBe('retry');
    const refused = postgresFailure({ code: '42501', message: 'permission denied for table buyers' }, url);
    expect(refused).toMatchObject({ disposition: 'refused' });
    expect(refused.message).toContain('permission denied for table buyers (SQLSTATE 42501)');
  });

  it('removes the password, encoded or not, and the whole connection string from any message', () => {
    expect(redact(`bad url ${url}`, url)).toBe('bad url <connectionString>');
    expect(redact('auth p@ss-w0rd and p%40ss-w0rd', url)).toBe('auth *** and ***');
  });
});
