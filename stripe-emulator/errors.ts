/**
 * Stripe's error envelope: `{ error: { type, message, code?, param?, doc_url? } }`.
 * The SDK picks its error class from the HTTP status and `type`, so both must
 * match what Stripe sends for the same mistake.
 */

export type StripeErrorType = 'invalid_request_error' | 'idempotency_error' | 'api_error' | 'card_error';

export interface StripeErrorBody {
  type: StripeErrorType;
  message: string;
  code?: string;
  param?: string;
  doc_url?: string;
}

export class StripeApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly body: StripeErrorBody,
  ) {
    super(body.message);
  }

  toJSON(): { error: StripeErrorBody } {
    return { error: this.body };
  }
}

function invalidRequest(statusCode: number, message: string, code?: string, param?: string): StripeApiError {
  const body: StripeErrorBody = { type: 'invalid_request_error', message };
  if (code) {
    body.code = code;
    body.doc_url = `https://stripe.com/docs/error-codes/${code.replace(/_/g, '-')}`;
  }
  if (param) body.param = param;
  return new StripeApiError(statusCode, body);
}

export const apiErrors = {
  missingApiKey: () =>
    invalidRequest(
      401,
      "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
    ),

  invalidApiKey: (key: string) =>
    invalidRequest(401, `Invalid API Key provided: ${key.slice(0, 8)}${'*'.repeat(Math.max(0, Math.min(key.length - 8, 24)))}`, 'api_key_invalid'),

  unrecognizedUrl: (method: string, path: string) =>
    invalidRequest(
      404,
      `Unrecognized request URL (${method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
    ),

  /** A referenced object does not exist. 404 when it is the URL's object, 400 when it is a parameter. */
  resourceMissing: (kind: string, id: string, param = 'id') =>
    invalidRequest(param === 'id' ? 404 : 400, `No such ${kind}: '${id}'`, 'resource_missing', param),

  missingParam: (param: string) => invalidRequest(400, `Missing required param: ${param}.`, 'parameter_missing', param),

  invalidParam: (param: string, message: string, code = 'parameter_invalid') => invalidRequest(400, message, code, param),

  invalidInteger: (param: string, value: unknown) =>
    invalidRequest(400, `Invalid integer: ${String(value)}`, 'parameter_invalid_integer', param),

  invalidBoolean: (param: string, value: unknown) =>
    invalidRequest(400, `Invalid boolean: ${String(value)}`, undefined, param),

  invalidState: (message: string, param?: string) => invalidRequest(400, message, undefined, param),

  idempotencyMismatch: (key: string) =>
    new StripeApiError(400, {
      type: 'idempotency_error',
      message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
    }),

  bodyTooLarge: () => invalidRequest(413, 'Request body too large.'),
};
