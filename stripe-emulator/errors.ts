// Stripe's error envelope, `{ error: { type, code, message, param } }`, with Stripe's statuses: the
// SDK picks its error class from the status and `type`.
import type { Response } from "express";

export class StripeApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: "invalid_request_error" | "idempotency_error" | "api_error",
    message: string,
    readonly code?: string,
    readonly param?: string,
  ) {
    super(message);
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
export function sendError(error: unknown, res: Response): void {
  if (error instanceof StripeApiError) return void res.status(error.status).json(error.toJSON());
  const status = error instanceof Error && "status" in error && typeof error.status === "number" ? error.status : 500;
  if (status >= 500) console.error("[stripe-emulator]", error);
  const message = status < 500 && error instanceof Error ? error.message : "Internal emulator error";
  res
    .status(status)
    .json(new StripeApiError(status, status < 500 ? "invalid_request_error" : "api_error", message).toJSON());
}
