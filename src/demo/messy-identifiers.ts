import type { SeededRandom } from '../core/index.js';

/** Writes a US number (10 digits) the many ways people type it. */
export function messyPhone(rng: SeededRandom, digits10: string): string {
  const a = digits10.slice(0, 3);
  const b = digits10.slice(3, 6);
  const c = digits10.slice(6);
  switch (rng.int(0, 5)) {
    case 0:
      return `(${a}) ${b}-${c}`;
    case 1:
      return `+1 ${a} ${b} ${c}`;
    case 2:
      return `${a}.${b}.${c}`;
    case 3:
      return `${a}-${b}-${c}`;
    case 4:
      return `1${digits10}`;
    default:
      return `+1${digits10}`;
  }
}

/** An email as a careless form or CRM keeps it: odd case, stray spaces. */
export function messyEmail(rng: SeededRandom, email: string): string {
  let e = email;
  if (rng.chance(0.25))
    e = e.replace(/^./, (c) => c.toUpperCase()).replace(/@(.)/, (_, c: string) => `@${c.toUpperCase()}`);
  if (rng.chance(0.1)) e = e.toUpperCase();
  if (rng.chance(0.15)) e = ` ${e} `;
  return e;
}

/** Swaps two neighbouring letters of the local part: `jane.doe@` → `jnae.doe@`. */
export function typoEmail(rng: SeededRandom, email: string): string {
  const at = email.indexOf('@');
  if (at < 3) return email;
  const i = rng.int(0, at - 2);
  const chars = [...email];
  [chars[i], chars[i + 1]] = [chars[i + 1]!, chars[i]!];
  const typo = chars.join('');
  return typo === email ? `${email.slice(0, at)}x${email.slice(at)}` : typo;
}
