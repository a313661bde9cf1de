// Letter → digit for a..z; 0 for vowels and y, -1 for h and w (they do not separate equal codes).
const CODES = [0, 1, 2, 3, 0, 1, 2, -1, 0, 2, 2, 4, 5, 5, 0, 1, 2, 6, 2, 3, 0, 1, -1, 2, 0, 2];

/** American Soundex: `soundex('robert')` and `soundex('rupert')` → `R163`; '' when there is no letter. */
export function soundex(value: string): string {
  let out = '';
  let last = -2;
  for (let i = 0; i < value.length && out.length < 4; i++) {
    const c = value.charCodeAt(i) | 0x20;
    if (c < 97 || c > 122) continue;
    const code = CODES[c - 97]!;
    if (out.length === 0) {
      out = String.fromCharCode(c - 32);
      last = code;
      continue;
    }
    if (code === -1) continue;
    if (code !== 0 && code !== last) out += code;
    last = code;
  }
  return out === '' ? '' : out.padEnd(4, '0');
}
