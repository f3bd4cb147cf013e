// What every billing provider's services answer, whatever the provider: the outcome of a webhook
// delivery, of applying a provider's object to an account, and of starting a checkout or portal. Routes
// map these to HTTP (app/web/); providers import them from here, never from each other.
import type { FinishedStatus } from "~/models/stripe-event.server.ts";

export type WebhookOutcome =
  | { kind: "not-configured" }
  | { kind: "missing-signature" }
  | { kind: "too-large" }
  | { kind: "invalid-signature" }
  /** Signed, but not an event that can even be stored (no usable id, type or time): nothing stored. */
  | { kind: "malformed"; reason: string }
  /** Signed and stored, but Tierdesk cannot read it: stored as failed with the reason. */
  | { kind: "unreadable"; eventId: string; reason: string }
  | { kind: "processed"; eventId: string; status: FinishedStatus; note: string | null }
  | { kind: "duplicate"; eventId: string }
  | { kind: "failed"; eventId: string; publicError: string };

/** A provider's object that cannot be applied as it is; the message says why, for support. */
export class FulfilmentError extends Error {
  name = "FulfilmentError";
}

export type FulfilmentOutcome =
  | { result: "applied"; accountId: number; detail: string }
  | { result: "stale" | "ignored"; accountId: number | null; detail: string };

/** How an event finished, as stored on it. */
export type ProcessingResult = { status: FinishedStatus; note: string | null };

export type BillingProblem =
  | "billing-disabled"
  | "invalid-request"
  | "not-offered"
  | "already-subscribed"
  /** The tier's integration is not valid in Stripe now (the dashboard shows why): not sold until fixed. */
  | "tier-unavailable"
  /** A live Whop membership: changed on Whop, not in Stripe's portal. */
  | "already-on-whop"
  | "no-billing-account"
  /** A member (not an owner) of the account the session acts for: its owners decide its billing. */
  | "not-an-owner"
  | "stripe-unreachable";

export type BillingOutcome = { ok: true; url: string } | { ok: false; problem: BillingProblem; message: string };

/** Thrown inside a checkout or portal flow to leave it early with its outcome (see `billingOutcomeOf`). */
export class BillingRefusal extends Error {
  constructor(
    readonly problem: BillingProblem,
    message: string,
  ) {
    super(message);
  }
}

/** Runs a flow that produces a URL to send the customer to; a BillingRefusal becomes its outcome. */
export async function billingOutcomeOf(produce: () => Promise<string>): Promise<BillingOutcome> {
  try {
    return { ok: true, url: await produce() };
  } catch (error) {
    if (error instanceof BillingRefusal) return { ok: false, problem: error.problem, message: error.message };
    throw error;
  }
}
