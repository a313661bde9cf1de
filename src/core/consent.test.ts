import { describe, expect, it } from 'vitest';
import { trackEvent } from '../test-support/segments.js';
import { consentOfEvent, consentOfRecord, consentValue } from './consent.js';

describe('consent values', () => {
  it('reads booleans, 1 and 0, and the words files use; anything else is no statement', () => {
    for (const yes of [
      true,
      1,
      'true',
      'YES',
      'y',
      '1',
      'opt-in',
      'Opted In',
      'opt_in',
      'subscribed',
      'granted',
    ])
      expect(consentValue(yes), String(yes)).toBe(true);
    for (const no of [
      false,
      0,
      'false',
      'No',
      '0',
      'opt-out',
      'OPTED_OUT',
      'unsubscribed',
      'withdrawn',
      'denied',
    ])
      expect(consentValue(no), String(no)).toBe(false);
    for (const neither of [null, undefined, '', 'unknown', 'maybe', 2, {}, []])
      expect(consentValue(neither), String(neither)).toBeUndefined();
  });

  it('takes an event’s context.consent and an identify call’s consent_ traits, dated by its timestamp', () => {
    const at = new Date('2026-03-01T10:00:00Z');
    const e = trackEvent({
      type: 'identify',
      timestamp: at,
      traits: { consent_sms: 'yes', consent_email: true, email: 'a@example.com' },
      context: { consent: { Email: false, advertising: 'opt-in', 'not a purpose': true, push: 'unknown' } },
    });
    expect(consentOfEvent(e)).toEqual([
      { purpose: 'sms', granted: true, statedAt: at, dated: true },
      // The consent object wins over a trait of the same call.
      { purpose: 'email', granted: false, statedAt: at, dated: true },
      { purpose: 'advertising', granted: true, statedAt: at, dated: true },
    ]);
    // consent_ traits count on identify calls only; a track's properties are not profile data.
    expect(consentOfEvent(trackEvent({ traits: { consent_email: true } }))).toEqual([]);
    expect(consentOfEvent(trackEvent({ context: { consent: 'yes' } }))).toEqual([]);
  });

  it('takes a record’s consent_ attributes, dated by consent_<purpose>_at when it is a time', () => {
    const received = new Date('2026-03-02T00:00:00Z');
    expect(
      consentOfRecord(
        {
          consent_email: 'opt-in',
          consent_email_at: '2026-02-01T08:00:00Z',
          consent_sms: 'no',
          consent_sms_at: 'last week',
          consent_advertising: null,
          // A time, but past what the engines store.
          consent_push: 'yes',
          consent_push_at: '+010000-01-01T00:00:00Z',
          first_name: 'Ann',
        },
        received,
      ),
    ).toEqual([
      { purpose: 'email', granted: true, statedAt: new Date('2026-02-01T08:00:00Z'), dated: true },
      { purpose: 'sms', granted: false, statedAt: received, dated: false },
      { purpose: 'push', granted: true, statedAt: received, dated: false },
    ]);
  });
});
