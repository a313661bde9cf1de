import { describe, expect, it } from 'vitest';
import {
  hashIdentifier,
  normalizeCountry,
  normalizeEmail,
  normalizeName,
  normalizePhone,
  normalizePostalCode,
  normalizeState,
  readAdPerson,
} from './ad-identifiers.js';

describe('hashIdentifier', () => {
  it.each([
    ['test@example.com', '973dfe463ec85785f5f95af5ba3906eedb2d931c24e69824a89ea65dba4e813b'],
    ['+14155552671', 'cb6880e416769253645cb9c6b8989154bf66a56a77fc14c81fb1019663cbb928'],
    ['14155552671', '758fbf68945f21c416814c539ab578876c8d98fb69e6da692def92cd52417fe0'],
    ['us', '79adb2a2fce5c6ba215fe5f27f532d4e7edbac4b6a5e09e1ef3a08084a904621'],
  ])('hashes %s to the golden vector', (value, digest) => {
    expect(hashIdentifier(value)).toBe(digest);
  });

  it('passes a value that already is a digest through, lowercased', () => {
    const digest = '973DFE463EC85785F5F95AF5BA3906EEDB2D931C24E69824A89EA65DBA4E813B';
    expect(hashIdentifier(digest)).toBe(digest.toLowerCase());
  });
});

describe('normalization', () => {
  it('trims and lowercases emails, refusing what is not an address', () => {
    expect(normalizeEmail('  Test@Example.COM ')).toBe('test@example.com');
    expect(normalizeEmail('not an email')).toBeUndefined();
  });

  it('writes phones in E.164 from the default country', () => {
    expect(normalizePhone('(415) 555-2671', 'US')).toBe('+14155552671');
    expect(normalizePhone('+44 20 7183 8750', 'US')).toBe('+442071838750');
    expect(normalizePhone('12', 'US')).toBeUndefined();
  });

  it('lowercases names and removes punctuation', () => {
    expect(normalizeName("  O'Brien-Smith ")).toBe('obriensmith');
    expect(normalizeName('Zoë')).toBe('zoë');
    expect(normalizeName('...')).toBeUndefined();
  });

  it('keeps countries as two lowercase letters', () => {
    expect(normalizeCountry(' US ')).toBe('us');
    expect(normalizeCountry('USA')).toBeUndefined();
  });

  it('turns US state names into their codes', () => {
    expect(normalizeState('Texas', 'us')).toBe('tx');
    expect(normalizeState('New York', undefined)).toBe('ny');
    expect(normalizeState('CA', 'us')).toBe('ca');
    expect(normalizeState('Atlantis', 'us')).toBeUndefined();
    expect(normalizeState('Île-de-France', 'fr')).toBe('îledefrance');
  });

  it('keeps five digits of US postal codes', () => {
    expect(normalizePostalCode('12345-6789', 'us')).toBe('12345');
    expect(normalizePostalCode('1234', 'us')).toBeUndefined();
    expect(normalizePostalCode('SW1A 1AA', 'gb')).toBe('sw1a1aa');
  });
});

describe('readAdPerson', () => {
  it('normalizes every field of a row', () => {
    const row = {
      email: '  Test@Example.COM ',
      phone: '(415) 555-2671',
      first_name: 'Ann',
      last_name: 'Lee',
      state: 'Texas',
      zip: '12345-6789',
      country: 'US',
    };
    expect(readAdPerson(row, 'US')).toEqual({
      ok: true,
      person: {
        email: 'test@example.com',
        phone: '+14155552671',
        firstName: 'ann',
        lastName: 'lee',
        state: 'tx',
        zip: '12345',
        country: 'us',
      },
    });
  });

  it('reads national phones in the row country before the default one', () => {
    const result = readAdPerson({ phone: '020 7183 8750', country: 'GB' }, 'US');
    expect(result).toEqual({ ok: true, person: { phone: '+442071838750', country: 'gb' } });
  });

  it('drops a value it cannot normalize and keeps the rest of the row', () => {
    expect(readAdPerson({ email: 'a@b.co', phone: 'call me' }, 'US')).toEqual({
      ok: true,
      person: { email: 'a@b.co' },
    });
  });

  it('refuses a row left without an identifier, saying which values it dropped', () => {
    const result = readAdPerson({ phone: 'call me', first_name: 'Ann' }, 'US');
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toMatch(/no usable identifier.*could not normalize phone/);
  });

  it('accepts first and last name with a postal code and a country as an identifier', () => {
    const row = { first_name: 'Ann', last_name: 'Lee', zip: '94107', country: 'us' };
    expect(readAdPerson(row, 'US').ok).toBe(true);
    expect(readAdPerson({ first_name: 'Ann', last_name: 'Lee' }, 'US').ok).toBe(false);
  });

  it('keeps values that already are digests as they are', () => {
    const digest = '973dfe463ec85785f5f95af5ba3906eedb2d931c24e69824a89ea65dba4e813b';
    expect(readAdPerson({ email: digest }, 'US')).toEqual({ ok: true, person: { email: digest } });
  });
});
