import { AuthError, type Issue, NotFoundError, RetryableError, UserError } from '../core/index.js';

export interface ErrorResponse {
  status: number;
  body: { success: false; code: string; message: string; issues?: Issue[] };
  headers: Record<string, string>;
}

const USER_ERROR_STATUS: Record<string, number> = {
  conflict: 409,
  campaign_busy: 409,
  payload_too_large: 413,
};

/** The one place where errors become HTTP statuses. */
export function errorResponse(err: unknown, log: (msg: string, err: unknown) => void): ErrorResponse {
  if (err instanceof AuthError) return plain(err.status, err.code, err.message);
  if (err instanceof NotFoundError) return plain(404, err.code, err.message);
  if (err instanceof UserError) {
    return {
      status: USER_ERROR_STATUS[err.code] ?? 400,
      body: {
        success: false,
        code: err.code,
        message: err.message,
        ...(err.issues.length ? { issues: err.issues } : {}),
      },
      headers: {},
    };
  }
  if (err instanceof RetryableError) {
    const r = plain(err.code === 'overloaded' ? 429 : 503, err.code, err.message);
    r.headers['Retry-After'] = String(Math.max(1, Math.ceil(err.retryAfterMs / 1000)));
    return r;
  }
  log('unexpected error', err);
  return plain(500, 'internal', 'internal error');
}

function plain(status: number, code: string, message: string): ErrorResponse {
  return { status, body: { success: false, code, message }, headers: {} };
}
