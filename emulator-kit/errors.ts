// Errors as a provider answers them: each emulator's error class carries an HTTP status and writes
// the provider's envelope; anything else is wrapped in it.
import type { Response } from "express";

export abstract class EmulatorError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }

  /** The provider's error envelope. */
  abstract toJSON(): object;
}

/**
 * Answers any error in the provider's envelope: its own errors as they are, others (body-parser's
 * 413, bad JSON) with their status through `wrap`, unexpected ones as a logged 500.
 */
export function errorSender(
  label: string,
  wrap: (status: number, type: "invalid_request_error" | "api_error", message: string) => EmulatorError,
) {
  return (error: unknown, res: Response): void => {
    if (error instanceof EmulatorError) return void res.status(error.status).json(error.toJSON());
    const status = error instanceof Error && "status" in error && typeof error.status === "number" ? error.status : 500;
    if (status >= 500) console.error(`[${label}]`, error);
    const message = status < 500 && error instanceof Error ? error.message : "Internal emulator error";
    res.status(status).json(wrap(status, status < 500 ? "invalid_request_error" : "api_error", message).toJSON());
  };
}
