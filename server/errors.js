// errors.js - the sync server's HTTP errors: a status and the JSON error
// body's fields (code, rule; retryAfter becomes a Retry-After header).
export class HttpError extends Error {
  constructor(status, message, extra = {}) {
    super(message);
    this.status = status;
    this.extra = extra;
  }
}

/** The JSON body and headers of an error answer. */
export function errorResponse(err) {
  const status = err instanceof HttpError ? err.status : 500;
  const headers = {};
  if (err.extra && err.extra.retryAfter) headers['retry-after'] = String(err.extra.retryAfter);
  if (status === 401) headers['www-authenticate'] = 'Bearer';
  const error = { code: err.extra && err.extra.code ? err.extra.code : 'SYNC', message: status === 500 ? 'internal server error' : err.message };
  if (err.extra && err.extra.rule) error.rule = err.extra.rule;
  return { status, headers, body: JSON.stringify({ error }) };
}
