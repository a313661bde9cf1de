import { type MatchingRuleSetInput, seededRandom } from '../src/core/index.js';
import {
  type MatchRecord,
  matchRecords,
  PERSON_RULE_SET,
  prepareRecords,
  trainModel,
} from '../src/identity/probabilistic/index.js';

/**
 * Times probabilistic matching (training, then matching) of `n` synthetic FEBRL-like person
 * records, about 30% of them corrupted duplicates. Generation is not timed.
 */
export async function measureProbabilistic(
  n: number,
  ruleSet: MatchingRuleSetInput = PERSON_RULE_SET,
): Promise<{ records: number; seconds: number; candidate_pairs: number; matches: number }> {
  const records = generatePersonRecords(n);
  const started = performance.now();
  const prepared = prepareRecords(records, ruleSet);
  const model = trainModel(prepared, ruleSet);
  const result = matchRecords(prepared, model);
  const seconds = (performance.now() - started) / 1000;
  return {
    records: n,
    seconds: Number(seconds.toFixed(2)),
    candidate_pairs: result.stats.candidatePairs,
    matches: result.matches.length,
  };
}

const FIELDS = [
  'given_name',
  'surname',
  'street_number',
  'address_1',
  'address_2',
  'suburb',
  'postcode',
  'state',
  'date_of_birth',
  'soc_sec_id',
] as const;
type Field = (typeof FIELDS)[number];
type Person = Record<Field, string | null>;

const STATES = ['nsw', 'vic', 'qld', 'wa', 'sa', 'tas', 'act', 'nt'];
const STATE_WEIGHTS = [0.32, 0.25, 0.2, 0.1, 0.07, 0.03, 0.02, 0.01];
const STREET_TYPES = ['street', 'road', 'place', 'circuit', 'crescent', 'avenue', 'close', 'drive', 'court'];
const ONSETS = [
  'b',
  'br',
  'c',
  'ch',
  'd',
  'f',
  'g',
  'h',
  'j',
  'k',
  'l',
  'm',
  'n',
  'p',
  'r',
  's',
  'sh',
  't',
  'w',
];
const VOWELS = ['a', 'e', 'i', 'o', 'u', 'ai', 'ee', 'ia', 'y'];
const CODAS = ['', '', 'n', 'r', 'l', 's', 'th', 'nd', 'rt', 'tt', 'ck', 'ng'];

/**
 * `n` person records in the FEBRL layout: originals (`rec-N-org`) and corrupted duplicates
 * (`rec-N-dup-K`) with typing errors, missing values, swapped names or address lines, changed
 * surnames and digits. Values follow skewed frequency tables, as FEBRL's do. Deterministic per seed.
 */
export function generatePersonRecords(n: number, seed = 42): MatchRecord[] {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  // Zipf-like: low ranks are much more common, as with real names.
  const skewed = <T>(items: readonly T[]): T => items[Math.floor(items.length * random() ** 2.5)]!;
  const vocabulary = (size: number, syllables: [number, number]) => {
    const words = new Set<string>();
    while (words.size < size) {
      let w = '';
      const count = syllables[0] + Math.floor(random() * (syllables[1] - syllables[0] + 1));
      for (let s = 0; s < count; s++) w += pick(ONSETS) + pick(VOWELS) + pick(CODAS);
      words.add(w);
    }
    return [...words];
  };
  const givenNames = vocabulary(4_000, [1, 3]);
  const surnames = vocabulary(Math.max(2_000, Math.min(60_000, n / 10)), [2, 3]);
  const streets = vocabulary(8_000, [2, 3]);
  const places = vocabulary(3_000, [2, 4]);
  const suburbs = vocabulary(4_000, [2, 3]);
  const digits = (length: number) => {
    let s = String(1 + Math.floor(random() * 9));
    while (s.length < length) s += Math.floor(random() * 10);
    return s;
  };
  const state = () => {
    let r = random();
    for (let i = 0; i < STATES.length; i++) {
      r -= STATE_WEIGHTS[i]!;
      if (r < 0) return STATES[i]!;
    }
    return 'nsw';
  };
  const date = () => {
    const day = Math.floor(random() * 365 * 95);
    return new Date(Date.UTC(1910, 0, 1) + day * 86_400_000).toISOString().slice(0, 10).replaceAll('-', '');
  };
  const maybe = (value: string, missing: number) => (random() < missing ? null : value);
  const original = (): Person => ({
    given_name: maybe(skewed(givenNames), 0.02),
    surname: maybe(skewed(surnames), 0.01),
    street_number: maybe(String(1 + Math.floor(random() ** 2 * 400)), 0.03),
    address_1: maybe(`${skewed(streets)} ${pick(STREET_TYPES)}`, 0.02),
    address_2: maybe(pick(places), 0.6),
    suburb: maybe(skewed(suburbs), 0.01),
    postcode: digits(4),
    state: maybe(state(), 0.01),
    date_of_birth: maybe(date(), 0.02),
    soc_sec_id: digits(7),
  });

  const typo = (value: string): string => {
    const at = Math.floor(random() * value.length);
    const letter =
      value >= 'a' ? String.fromCharCode(97 + Math.floor(random() * 26)) : String(Math.floor(random() * 10));
    switch (Math.floor(random() * 4)) {
      case 0:
        return value.slice(0, at) + letter + value.slice(at);
      case 1:
        return value.length > 1 ? value.slice(0, at) + value.slice(at + 1) : value;
      case 2:
        return value.slice(0, at) + letter + value.slice(at + 1);
      default:
        return at + 1 < value.length
          ? value.slice(0, at) + value[at + 1] + value[at] + value.slice(at + 2)
          : value;
    }
  };
  const corrupt = (p: Person): Person => {
    const d = { ...p };
    const changes = 1 + Math.floor(random() * 3);
    for (let c = 0; c < changes; c++) {
      const r = random();
      if (r < 0.06) [d.given_name, d.surname] = [d.surname, d.given_name];
      else if (r < 0.1) [d.address_1, d.address_2] = [d.address_2, d.address_1];
      else if (r < 0.14) d.surname = skewed(surnames);
      else if (r < 0.24) d[pick(FIELDS)] = null;
      else {
        const field = pick(FIELDS);
        const value = d[field];
        if (value) d[field] = typo(value);
      }
    }
    return d;
  };

  // Concatenation leaves V8 "cons" strings, which a parser (CSV, database driver) never hands over;
  // touching one character flattens each, so matching is timed on strings as they would arrive.
  const flatten = (p: Person): Person => {
    for (const field of FIELDS) p[field]?.charCodeAt(0);
    return p;
  };
  const originals = Math.ceil(n * 0.7);
  const people: Person[] = [];
  const records: MatchRecord[] = [];
  const duplicates = new Int32Array(originals);
  for (let i = 0; i < originals; i++) {
    const person = flatten(original());
    people.push(person);
    records.push({ id: `rec-${i}-org`, fields: person });
  }
  while (records.length < n) {
    const of = Math.floor(random() * originals);
    records.push({ id: `rec-${of}-dup-${duplicates[of]!++}`, fields: flatten(corrupt(people[of]!)) });
  }
  // Shuffle so duplicates are not next to their originals.
  for (let i = records.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [records[i], records[j]] = [records[j]!, records[i]!];
  }
  return records;
}
