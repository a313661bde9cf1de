import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { compileRowEncoder, SEEN_BOOLEAN, SEEN_FRACTION, SEEN_INTEGER, SEEN_TEXT } from './row-encoder.js';

describe('compileRowEncoder', () => {
  it('writes fields in order as CSV, quoting only what needs it', () => {
    const encode = compileRowEncoder(['b', 'a']);
    const kinds = [0, 0];
    const rows = [
      { a: 'x,y', b: 'say "hi"' },
      { a: 'line\nbreak', b: '' },
      { a: null, b: 'plain' },
    ];
    expect(encode(rows, 0, 3, kinds)).toBe('"say ""hi""","x,y"\n"","line\nbreak"\nplain,\n');
    expect(kinds).toEqual([SEEN_TEXT, SEEN_TEXT]);
  });

  it('encodes only the slice asked for', () => {
    const encode = compileRowEncoder(['n']);
    const rows = [{ n: 1 }, { n: 2 }, { n: 3 }];
    expect(encode(rows, 1, 3, [0])).toBe('2\n3\n');
  });

  it('records the kinds each field held, across calls', () => {
    const encode = compileRowEncoder(['int', 'mixed', 'flag', 'odd']);
    const kinds = [0, 0, 0, 0];
    encode([{ int: 1, mixed: 2, flag: true, odd: Number.NaN }], 0, 1, kinds);
    expect(kinds).toEqual([SEEN_INTEGER, SEEN_INTEGER, SEEN_BOOLEAN, 0]);
    const text = encode([{ int: 3, mixed: 2.5, flag: false, odd: Number.POSITIVE_INFINITY }], 0, 1, kinds);
    expect(text).toBe('3,2.5,false,\n');
    expect(kinds).toEqual([SEEN_INTEGER, SEEN_INTEGER | SEEN_FRACTION, SEEN_BOOLEAN, 0]);
  });

  it('treats any field name as data, never as code', () => {
    const names = [
      `'); throw new Error('injected'); ('`,
      'back\\slash',
      'new\nline',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a field name that looks like a placeholder
      '${x}',
      '"quoted"',
      'ünï 🎉',
    ];
    const encode = compileRowEncoder(names);
    const row = Object.fromEntries(names.map((name, i) => [name, `v${i}`]));
    const text = encode(
      [row],
      0,
      1,
      names.map(() => 0),
    );
    expect(parse(text)).toEqual([names.map((_, i) => `v${i}`)]);
  });
});
