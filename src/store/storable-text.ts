// PostgreSQL stores neither NUL nor unpaired UTF-16 surrogates; one such value would fail a whole
// bulk write. Both engines store them as U+FFFD, so they behave alike. Most text has neither,
// and one test finds that out.
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is what this looks for.
const SUSPECT = /[\u0000\ud800-\udfff]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is what this looks for.
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** The text as both engines can store it: NUL and unpaired surrogates become U+FFFD. */
export function storableText(text: string): string {
  return SUSPECT.test(text) ? text.replace(UNSTORABLE, '\ufffd') : text;
}

// In JSON text the same characters are escapes, which PostgreSQL's JSONB refuses. An escape counts
// only after an even run of backslashes (`\\u0000` is a backslash and "u0000").
const EVEN = String.raw`(?<!\\)((?:\\\\)*)`;
const UNSTORABLE_ESCAPE = new RegExp(
  [
    `${EVEN}\\\\u0000`,
    `${EVEN}\\\\ud[89ab][0-9a-f]{2}(?!\\\\ud[c-f][0-9a-f]{2})`,
    `(?<!\\\\ud[89ab][0-9a-f]{2})${EVEN}\\\\ud[c-f][0-9a-f]{2}`,
  ].join('|'),
  'gi',
);

/** `JSON.stringify`, with NUL and unpaired surrogates written as U+FFFD so that both engines store it. */
export function storableJson(value: unknown): string {
  const json = JSON.stringify(value);
  if (!json.includes('\\u')) return json;
  return json.replace(
    UNSTORABLE_ESCAPE,
    (_match, a?: string, b?: string, c?: string) => `${a ?? b ?? c ?? ''}\\ufffd`,
  );
}
