// Whop's error envelope, `{ error: { type, message } }`, with Whop's statuses.
import { EmulatorError, errorSender } from "../emulator-kit/errors.ts";

export class WhopEmulatorError extends EmulatorError {
  constructor(
    status: number,
    readonly type: string,
    message: string,
  ) {
    super(status, message);
  }

  toJSON() {
    return { error: { type: this.type, message: this.message } };
  }
}

export const notFound = (what: string, id: string) =>
  new WhopEmulatorError(404, "not_found", `${what} ${id} was not found`);
export const invalid = (message: string) => new WhopEmulatorError(400, "invalid_request_error", message);

/** Whop's envelope for any error; body-parser errors (413, bad JSON) keep their status. */
export const sendError = errorSender(
  "whop-emulator",
  (status, type, message) => new WhopEmulatorError(status, type, message),
);
