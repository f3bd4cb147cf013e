// A circuit breaker for a provider that pages ask (Stripe): which failures mean "not available", when
// callers may call, and when one probe may go through. Pure functions of plain values and a clock
// reading given by the caller: no network, no timers (docs/decisions/012).

/** How often an open breaker lets one probe through (per instance). */
export const PROBE_INTERVAL_MS = 5_000;

export type BreakerState =
  | { kind: "closed" }
  | {
      kind: "open";
      /** When the provider first failed to answer in this outage (ms since the epoch). */
      since: number;
      /** The latest failure, in words. */
      reason: string;
      /** No probe before this time. */
      nextProbeAt: number;
      /** A probe is in flight: no second one. */
      probing: boolean;
    };

export const CLOSED: BreakerState = { kind: "closed" };

/** How a call ended, as far as availability goes. */
export type CallOutcome =
  | { kind: "answered" }
  /** No answer within the caller's deadline, a refused or reset connection, a 5xx, a 429. */
  | { kind: "unavailable"; reason: string };

/**
 * Whether a failed call means the provider is not available (open the breaker) or that it answered
 * with a refusal of this request (an invalid request, a missing object, a bad key: it is up).
 * `status` is the HTTP status when there was an answer; `network` a connection error or a timeout.
 */
export function isAvailabilityFailure({ status, network }: { status: number | null; network: boolean }): boolean {
  if (network || status === null) return true;
  return status === 429 || status >= 500;
}

export type Admission =
  | { call: true; state: BreakerState }
  /** Fail fast; `probe`: start the one probe now (in the background), the state says it is in flight. */
  | { call: false; probe: boolean; state: BreakerState };

/** May a caller call now? While open, no; once per interval, one probe goes (not the caller). */
export function admit(state: BreakerState, now: number): Admission {
  if (state.kind === "closed") return { call: true, state };
  if (!state.probing && now >= state.nextProbeAt)
    return { call: false, probe: true, state: { ...state, probing: true } };
  return { call: false, probe: false, state };
}

/** The state after a call (or a probe) ended. An answer closes; an availability failure opens or keeps open. */
export function afterCall(state: BreakerState, outcome: CallOutcome, now: number): BreakerState {
  if (outcome.kind === "answered") return CLOSED;
  return {
    kind: "open",
    since: state.kind === "open" ? state.since : now,
    reason: outcome.reason,
    nextProbeAt: now + PROBE_INTERVAL_MS,
    probing: false,
  };
}
