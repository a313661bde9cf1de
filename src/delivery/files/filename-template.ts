import { UserError } from '../../core/index.js';
import type { DeliveryBatch } from '../connector.js';

/** What a file name may say about its batch. */
export type FilenameContext = Pick<
  DeliveryBatch,
  'activation' | 'group' | 'runId' | 'runAt' | 'index' | 'count'
>;

const TOKEN = /\{\{\s*([a-z_]+)(?::([^}]*))?\s*\}\}/g;
const DATE_PARTS = /yyyy|MM|dd|HH|mm|ss/g;
const DEFAULT_DATE_PATTERN = 'yyyy-MM-dd';
/** Bytes left for the name before the part number and extension are added (most file systems allow 255). */
const MAX_BASE_BYTES = 200;

/**
 * Renders a file name template for one batch, without extension:
 * `{{activation_name}}_{{date:yyyyMMdd}}` → `Spring Sale_20260314`. When the run has more than one
 * batch and the template has no `{{batch}}`, `_batch002` is appended so batches never overwrite
 * each other; the same batch always gets the same name.
 */
export function renderFilename(template: string, batch: FilenameContext): string {
  checkFilenameTemplate(template);
  let hasBatch = false;
  const rendered = template.replace(TOKEN, (_match, name: string, argument: string | undefined) => {
    if (name === 'batch') hasBatch = true;
    return safeForFilename(renderToken(name, argument, batch));
  });
  const withBatch = batch.count > 1 && !hasBatch ? `${rendered}_batch${batchNumber(batch)}` : rendered;
  return finishName(withBatch);
}

/** Throws a UserError naming the first problem in a template: an unknown token, a bad date pattern, a path. */
export function checkFilenameTemplate(template: string): void {
  const literal = template.replace(TOKEN, '');
  if (/[/\\]/.test(literal) || literal.includes('..')) {
    throw templateError('may not contain "/", "\\" or "..": it names a file, not a path');
  }
  if (literal.includes('{{') || literal.includes('}}')) {
    throw templateError(`has an unclosed or malformed token in ${JSON.stringify(template)}`);
  }
  for (const match of template.matchAll(TOKEN)) {
    const [, name = '', argument] = match;
    if (!KNOWN_TOKENS.has(name)) {
      throw templateError(
        `has an unknown token {{${name}}}; known tokens: ${[...KNOWN_TOKENS].map((t) => `{{${t}}}`).join(', ')}`,
      );
    }
    if (name === 'date') checkDatePattern(argument ?? DEFAULT_DATE_PATTERN);
    else if (argument !== undefined) throw templateError(`token {{${name}}} takes no argument`);
  }
}

const KNOWN_TOKENS = new Set(['activation_name', 'campaign_name', 'group_name', 'run_id', 'batch', 'date']);

function renderToken(name: string, argument: string | undefined, batch: FilenameContext): string {
  switch (name) {
    case 'activation_name':
    case 'campaign_name':
      return batch.activation.name;
    case 'group_name':
      return batch.group ?? '';
    case 'run_id':
      return batch.runId;
    case 'batch':
      return batchNumber(batch);
    case 'date':
      return formatDate(batch.runAt, argument ?? DEFAULT_DATE_PATTERN);
    default:
      // checkFilenameTemplate ran first; kept for safety should the two lists ever drift apart.
      throw templateError(`has an unknown token {{${name}}}`);
  }
}

/** The batch's place counted from 1, three digits at least: `001`. */
function batchNumber(batch: FilenameContext): string {
  return String(batch.index + 1).padStart(3, '0');
}

function checkDatePattern(pattern: string): void {
  const leftover = pattern.replace(DATE_PARTS, '');
  if (/[A-Za-z]/.test(leftover)) {
    throw templateError(`date pattern ${JSON.stringify(pattern)} may use only yyyy, MM, dd, HH, mm, ss`);
  }
}

function formatDate(at: Date, pattern: string): string {
  const two = (n: number) => String(n).padStart(2, '0');
  const parts: Record<string, string> = {
    yyyy: String(at.getUTCFullYear()).padStart(4, '0'),
    MM: two(at.getUTCMonth() + 1),
    dd: two(at.getUTCDate()),
    HH: two(at.getUTCHours()),
    mm: two(at.getUTCMinutes()),
    ss: two(at.getUTCSeconds()),
  };
  return pattern.replace(DATE_PARTS, (part) => parts[part] ?? part);
}

/** Path separators and control characters become `_`, so a value can never make a path. */
function safeForFilename(value: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed
  return value.replace(/[/\\\u0000-\u001f\u007f]/g, '_');
}

function finishName(name: string): string {
  // A leading dot would hide the file and could collide with a transport's temporary names;
  // ".." could only come from values, and is flattened too.
  let safe = name.replaceAll('..', '_').replace(/^[.\s]+/, '');
  if (Buffer.byteLength(safe) > MAX_BASE_BYTES) safe = truncateBytes(safe, MAX_BASE_BYTES);
  return safe === '' ? 'export' : safe;
}

function truncateBytes(value: string, maxBytes: number): string {
  let out = '';
  let bytes = 0;
  for (const char of value) {
    bytes += Buffer.byteLength(char);
    if (bytes > maxBytes) break;
    out += char;
  }
  return out;
}

function templateError(problem: string): UserError {
  const message = `filenameTemplate ${problem}`;
  return new UserError('invalid_filename_template', message, [
    { code: 'invalid_filename_template', path: ['filenameTemplate'], message },
  ]);
}
