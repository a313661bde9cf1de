import { describe, expect, it } from 'vitest';
import { type MatchFieldInput, MatchFieldSchema } from '../../core/index.js';
import { buildComparator, dayNumber, levelLabels } from './comparison-levels.js';
import { RecordColumns } from './record-columns.js';

/** The level label of each (left, right) value pair on one field. */
function levels(field: Omit<MatchFieldInput, 'name'>, pairs: [unknown, unknown][]) {
  const spec = MatchFieldSchema.parse({ name: 'f', ...field });
  const rows = pairs.flatMap(([a, b]) => [{ f: a }, { f: b }]);
  const columns = new RecordColumns(rows.length, ['f'], [], (r) => rows[r]!);
  const comparator = buildComparator(spec, columns);
  return pairs.map((_, p) => comparator.labels[comparator.level(2 * p, 2 * p + 1)]);
}

describe('comparison levels', () => {
  it('orders levels null, else, exact, then the bands from closest to furthest', () => {
    const field = MatchFieldSchema.parse({
      name: 'given_name',
      comparison: { kind: 'jaro_winkler', thresholds: [0.92, 0.8] },
      swapWith: 'surname',
    });
    expect(levelLabels(field)).toEqual([
      'null',
      'else',
      'exact',
      'swapped_with_surname',
      'jaro_winkler>=0.92',
      'jaro_winkler>=0.8',
    ]);
  });

  it('exact: trimmed and case-insensitive; missing or empty is null', () => {
    expect(
      levels({ comparison: { kind: 'exact' } }, [
        ['Smith ', 'smith'],
        ['smith', 'smyth'],
        [null, 'smith'],
        ['', 'smith'],
        [42, '42'],
      ]),
    ).toEqual(['exact', 'else', 'null', 'null', 'exact']);
  });

  it('jaro_winkler: the first band the similarity reaches', () => {
    expect(
      levels({ comparison: { kind: 'jaro_winkler', thresholds: [0.95, 0.83] } }, [
        ['martha', 'marhta'], // 0.961
        ['dwayne', 'duane'], // 0.84
        ['dixon', 'dicksonx'], // 0.813
        ['abc', 'xyz'],
      ]),
    ).toEqual(['jaro_winkler>=0.95', 'jaro_winkler>=0.83', 'else', 'else']);
  });

  it('levenshtein: by edit count, a transposition counting one unless disabled', () => {
    const pairs: [string, string][] = [
      ['5162', '5612'],
      ['5162', '5172'],
      ['5162', '6152'],
      ['5162', '9999'],
    ];
    expect(levels({ comparison: { kind: 'levenshtein', maxEdits: [1, 2] } }, pairs)).toEqual([
      'edits<=1',
      'edits<=1',
      'edits<=2',
      'else',
    ]);
    expect(
      levels({ comparison: { kind: 'levenshtein', maxEdits: [1], transpositions: false } }, pairs),
    ).toEqual(['else', 'edits<=1', 'else', 'else']);
  });

  it('numeric: absolute bands, then relative ones; text that is no number agrees only exactly', () => {
    expect(
      levels({ comparison: { kind: 'numeric', absolute: [1], relative: [0.1] } }, [
        [100, 101],
        ['100', '109'],
        [100, 120],
        ['n/a', 'n/a'],
        ['n/a', '100'],
      ]),
    ).toEqual(['difference<=1', 'relative_difference<=0.1', 'else', 'exact', 'else']);
  });

  it('date: the same day in either format is exact; then typing errors, then day bands', () => {
    expect(
      levels({ comparison: { kind: 'date', maxEdits: 1, days: [31, 366] } }, [
        ['19770501', '1977-05-01'],
        ['19770501', '19770510'], // transposed digits
        ['19770501', '19780501'], // one digit
        ['19770501', '19770520'], // 19 days
        ['19770501', '19760601'], // 334 days
        ['19770501', '19990101'],
        ['19771301', '19790101'], // not a date: only edits could match
      ]),
    ).toEqual(['exact', 'edits<=1', 'edits<=1', 'days<=31', 'days<=366', 'else', 'else']);
  });

  it('swapped: the value is in the other record’s swapWith field', () => {
    const rows = [
      { first: 'barnaby', last: 'siggins' },
      { first: 'siggins', last: 'barnaby' },
      { first: 'barnaby', last: 'reid' },
      { first: 'mia', last: 'paulka' },
    ];
    const columns = new RecordColumns(rows.length, ['first', 'last'], [['first', 'last']], (r) => rows[r]!);
    const first = buildComparator(
      MatchFieldSchema.parse({ name: 'first', comparison: { kind: 'exact' }, swapWith: 'last' }),
      columns,
    );
    expect(first.labels[first.level(0, 1)]).toBe('swapped_with_last');
    expect(first.labels[first.level(1, 0)]).toBe('swapped_with_last');
    expect(first.labels[first.level(0, 2)]).toBe('exact');
    expect(first.labels[first.level(1, 2)]).toBe('swapped_with_last'); // 2's given name is 1's surname
    expect(first.labels[first.level(0, 3)]).toBe('else');
  });

  it('reads calendar dates only', () => {
    expect(dayNumber('1970-01-02')).toBe(1);
    expect(dayNumber('19700102')).toBe(1);
    expect(dayNumber('19700231')).toBeNaN();
    expect(dayNumber('soon')).toBeNaN();
  });
});
