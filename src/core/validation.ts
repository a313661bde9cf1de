import type { z } from 'zod';
import { type Issue, UserError } from './errors.js';

/** Converts zod issues to Sluice issues, prefixing each path (e.g. with the batch index). */
export function toIssues(error: z.ZodError, prefix: (string | number)[] = []): Issue[] {
  return error.issues.map((issue) => ({
    code: issue.code,
    path: [...prefix, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))],
    message: issue.message,
  }));
}

/** Parses `input` with `schema` or throws a UserError listing every issue. */
export function parseOrThrow<T extends z.ZodType>(
  schema: T,
  input: unknown,
  what: string,
  prefix: (string | number)[] = [],
): z.output<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = toIssues(result.error, prefix);
  const first = issues[0];
  const where = first && first.path.length > 0 ? ` at ${first.path.join('.')}` : '';
  throw new UserError('invalid_input', `invalid ${what}${where}: ${first?.message ?? 'unknown'}`, issues);
}
