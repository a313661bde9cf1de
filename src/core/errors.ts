/** One problem with an input, pointing at where it is (zod's shape, so the UI can mark the field). */
export interface Issue {
  code: string;
  path: (string | number)[];
  message: string;
}

/** Bad input or configuration: the caller must change something. Carries every problem found. */
export class UserError extends Error {
  override readonly name = 'UserError';
  constructor(
    readonly code: string,
    message: string,
    readonly issues: Issue[] = [],
  ) {
    super(message);
  }
}

/** The thing asked for does not exist (or is not visible to this caller). */
export class NotFoundError extends UserError {
  constructor(what: string, id: string) {
    super('not_found', `${what} ${JSON.stringify(id)} was not found`);
  }
}

/** Missing or wrong credentials. */
export class AuthError extends UserError {
  constructor(
    message: string,
    readonly status: 401 | 403 = 401,
  ) {
    super(status === 401 ? 'unauthorized' : 'forbidden', message);
  }
}

/** A transient fault: the same call may succeed later. `retryAfterMs` is a hint for clients. */
export class RetryableError extends Error {
  override readonly name = 'RetryableError';
  constructor(
    readonly code: string,
    message: string,
    readonly retryAfterMs = 1000,
  ) {
    super(message);
  }
}

/** Makes a `switch` over a tagged union exhaustive: adding a kind breaks the build here. */
export function assertNever(value: never): never {
  throw new Error(`unhandled case: ${JSON.stringify(value)}`);
}
