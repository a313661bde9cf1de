import type { CountryCode } from 'libphonenumber-js/max';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import type { IdentityConfig } from '../core/index.js';

/** A normalized identifier, or why the raw value cannot be one. */
export type NormalizedIdentifier =
  | { ok: true; namespace: string; value: string }
  | { ok: false; namespace: string; raw: string; reason: 'empty' | 'invalid' | 'blocked' };

/**
 * Normalizes identifier values and applies the blocked-value patterns.
 * `normalize('email', ' Ann@Example.COM ')` → `ann@example.com`;
 * `normalize('phone', '(415) 555-2671')` → `+14155552671` (default country US).
 */
export class IdentifierNormalizer {
  private readonly blocked = new Map<string, RegExp[]>();

  constructor(private readonly config: IdentityConfig) {
    for (const [ns, patterns] of Object.entries(config.blocked)) {
      this.blocked.set(
        ns,
        patterns.map((p) => new RegExp(p, 'i')),
      );
    }
  }

  normalize(namespace: string, raw: unknown): NormalizedIdentifier {
    const text = typeof raw === 'number' ? String(raw) : typeof raw === 'string' ? raw : '';
    const trimmed = text.trim();
    if (trimmed === '') return { ok: false, namespace, raw: text, reason: 'empty' };
    const value = this.canonical(namespace, trimmed);
    if (value === undefined) return { ok: false, namespace, raw: text, reason: 'invalid' };
    if (this.isBlocked(namespace, value) || this.isBlocked(namespace, trimmed)) {
      return { ok: false, namespace, raw: text, reason: 'blocked' };
    }
    return { ok: true, namespace, value };
  }

  private canonical(namespace: string, value: string): string | undefined {
    switch (namespace) {
      case 'email': {
        const email = value.toLowerCase();
        return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email) ? email : undefined;
      }
      case 'phone': {
        const phone = parsePhoneNumberFromString(value, this.config.defaultCountry as CountryCode);
        return phone?.isPossible() ? phone.number : undefined;
      }
      // Ids issued by systems are case-sensitive: only the surrounding space goes.
      default:
        return value;
    }
  }

  private isBlocked(namespace: string, value: string): boolean {
    const patterns = [...(this.blocked.get('*') ?? []), ...(this.blocked.get(namespace) ?? [])];
    return patterns.some((p) => p.test(value));
  }
}
