/**
 * Expected failures the HTTP layer turns into a status: one family with a string code, mapped in one
 * place (app.onError). Anything else that escapes is a fault and answers 500.
 */
export class AppError extends Error {
  constructor(
    readonly code: 'bad_request' | 'unauthorized' | 'forbidden' | 'not_found' | 'conflict' | 'payload_too_large' | 'rate_limited' | 'unavailable',
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'AppError';
  }

  get status(): 400 | 401 | 403 | 404 | 409 | 413 | 429 | 503 {
    return ({ bad_request: 400, unauthorized: 401, forbidden: 403, not_found: 404, conflict: 409, payload_too_large: 413, rate_limited: 429, unavailable: 503 } as const)[this.code];
  }
}
