// Stripe's error envelope, `{ error: { type, code, message, param } }`, with Stripe's statuses: the
// SDK picks its error class from the status and `type`.
import { EmulatorError, errorSender } from "../emulator-kit/errors.ts";

export class StripeApiError extends EmulatorError {
  constructor(
    status: number,
    readonly type: "invalid_request_error" | "idempotency_error" | "api_error",
    message: string,
    readonly code?: string,
    readonly param?: string,
  ) {
    super(status, message);
  }

  toJSON() {
    return { error: { type: this.type, code: this.code, message: this.message, param: this.param } };
  }
}

export function raise(error: Error): never {
  throw error;
}
export const invalid = (param: string | undefined, message: string, code = "parameter_invalid") =>
  new StripeApiError(400, "invalid_request_error", message, code, param);
export const missingParam = (param: string) => invalid(param, `Missing required param: ${param}.`, "parameter_missing");
/** A 404 when the URL names the object, a 400 naming the param otherwise. */
export const noSuch = (kind: string, id: string, param = "id") =>
  new StripeApiError(
    param === "id" ? 404 : 400,
    "invalid_request_error",
    `No such ${kind}: '${id}'`,
    "resource_missing",
    param,
  );

/** Stripe's envelope for any error; body-parser errors (413, bad JSON) carry their own status. */
export const sendError = errorSender(
  "stripe-emulator",
  (status, type, message) => new StripeApiError(status, type, message),
);
