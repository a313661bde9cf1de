import { describe, expect, it } from 'vitest';
import { soundex } from './soundex.js';

describe('soundex', () => {
  // The examples of the US National Archives' description of American Soundex.
  it.each([
    ['robert', 'R163'],
    ['rupert', 'R163'],
    ['rubin', 'R150'],
    ['ashcraft', 'A261'],
    ['ashcroft', 'A261'],
    ['tymczak', 'T522'],
    ['pfister', 'P236'],
    ['honeyman', 'H555'],
    ['lee', 'L000'],
  ])('%s → %s', (name, code) => {
    expect(soundex(name)).toBe(code);
  });

  it('ignores case and anything that is not a letter, and is empty without letters', () => {
    expect(soundex("O'Brien")).toBe(soundex('obrien'));
    expect(soundex('1234')).toBe('');
  });
});
