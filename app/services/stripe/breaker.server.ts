// The circuit breaker in front of Stripe's reads (prices, the catalog, a subscription), one per
// instance (docs/decisions/012). Once Stripe failed to answer within a caller's deadline, callers fail
// fast with the reason and show what they last knew; one probe per PROBE_INTERVAL_MS goes to Stripe in
// the background, so no visitor waits on it, and its answer closes the breaker. The state machine is
// app/rules/circuit-breaker.ts.
import Stripe from "stripe";
import {
  admit,
  afterCall,
  type BreakerState,
  CLOSED,
  isAvailabilityFailure,
  PROBE_INTERVAL_MS,
} from "~/rules/circuit-breaker.ts";
import { withDeadline } from "~/utils/deadline.ts";
import { logger } from "~/utils/logger.server.ts";
import { singleton } from "~/utils/singleton.server.ts";
import { BillingDisabledError, getStripe, type StripeConnection, stripeConnection } from "./client.server.ts";

/** How long a page waits on Stripe at most: well under a second, then it shows what it last knew. */
export const PAGE_BUDGET_MS = 750;

const breaker = singleton("stripe-breaker", () => ({
  state: CLOSED as BreakerState,
  // A new connection (a test's emulator, the server's) starts closed: its availability is unknown.
  connection: undefined as StripeConnection | undefined,
}));

function current(): BreakerState {
  const connection = stripeConnection();
  if (breaker.connection !== connection) {
    breaker.connection = connection;
    breaker.state = CLOSED;
  }
  return breaker.state;
}

/** Thrown instead of calling Stripe while the breaker is open. */
export class StripeUnavailableError extends Error {
  name = "StripeUnavailableError";
}

const timeOfDay = (ms: number) => new Date(ms).toISOString().slice(11, 16);

function openMessage(state: Extract<BreakerState, { kind: "open" }>) {
  return `Stripe did not answer (${state.reason}) since ${timeOfDay(state.since)} UTC; retrying every ${PROBE_INTERVAL_MS / 1000} s`;
}

/** Whether a failure says Stripe is unavailable (not answering, 5xx, 429) rather than refusing this request. */
function isUnavailable(error: unknown): boolean {
  if (error instanceof Stripe.errors.StripeError) {
    const network = error instanceof Stripe.errors.StripeConnectionError;
    return isAvailabilityFailure({ status: error.statusCode ?? null, network });
  }
  // withDeadline's expiry, or a network error outside the SDK's own types.
  return true;
}

function record(error: unknown | null, connection: StripeConnection) {
  if (breaker.connection !== connection) return; // an answer about a connection no longer used
  const before = breaker.state;
  const unavailable = error !== null && isUnavailable(error);
  const reason = error instanceof Error ? error.message : String(error);
  breaker.state = afterCall(before, unavailable ? { kind: "unavailable", reason } : { kind: "answered" }, Date.now());
  if (before.kind === "closed" && breaker.state.kind === "open") logger.warn({ reason }, "Stripe breaker opened");
  if (before.kind === "open" && breaker.state.kind === "closed")
    logger.info("Stripe breaker closed: Stripe answers again");
}

/** A cheap read; its answer within a page's budget says Stripe is back. */
function probe(connection: StripeConnection) {
  void withDeadline(getStripe().prices.list({ limit: 1 }), PAGE_BUDGET_MS).then(
    () => record(null, connection),
    (error: unknown) => record(error, connection),
  );
}

/**
 * Runs one read of Stripe within `deadlineMs`, unless the breaker is open: then it throws
 * StripeUnavailableError at once (and may start the one background probe). A deadline passed or an
 * availability failure opens the breaker; any answer (even a refusal of the request) closes it. The
 * read itself goes on past the deadline: `work` may keep a late answer (a cache) without the caller.
 */
export async function guardedStripeRead<T>(work: (stripe: Stripe) => Promise<T>, deadlineMs: number): Promise<T> {
  const stripe = getStripe(); // BillingDisabledError passes through: not an outage
  const state = current();
  const connection = breaker.connection as StripeConnection;
  const admission = admit(state, Date.now());
  breaker.state = admission.state;
  if (!admission.call) {
    if (admission.probe) probe(connection);
    throw new StripeUnavailableError(openMessage(admission.state as Extract<BreakerState, { kind: "open" }>));
  }
  try {
    const answer = await withDeadline(work(stripe), deadlineMs);
    record(null, connection);
    return answer;
  } catch (error) {
    if (!(error instanceof BillingDisabledError)) record(error, connection);
    throw error;
  }
}

/** Whether the breaker is open now (for tests and logs). */
export function stripeBreakerOpen(): boolean {
  return current().kind === "open";
}
