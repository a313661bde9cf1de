import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../core/index.js';
import { characterSets, editDistanceBound, jaroWinklerBound } from './character-bounds.js';
import { editDistance } from './edit-distance.js';
import { jaroWinkler } from './jaro-winkler.js';

describe('character bounds', () => {
  // The bounds skip string comparisons; a bound on the wrong side would silently change levels.
  it('never understate Jaro-Winkler nor overstate the edit distance', () => {
    const random = seededRandom(3);
    const alphabet = 'aeinorst0123';
    const word = () => {
      let w = '';
      const length = 1 + Math.floor(random() * 9);
      for (let i = 0; i < length; i++) w += alphabet[Math.floor(random() * alphabet.length)];
      return w;
    };
    const values = Array.from({ length: 400 }, word);
    const sets = characterSets(values);
    for (let a = 0; a < values.length; a++) {
      for (let b = a + 1; b < values.length; b += 7) {
        const [x, y] = [values[a]!, values[b]!];
        expect(jaroWinklerBound(sets, a, b)).toBeGreaterThanOrEqual(jaroWinkler(x, y) - 1e-12);
        expect(editDistanceBound(sets, a, b)).toBeLessThanOrEqual(editDistance(x, y, 20, true));
      }
    }
  });
});
