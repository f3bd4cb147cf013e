// What a replay of a stored event (Stripe's or Whop's, one or in bulk) has in common: which events may
// be replayed, and that every replay of one is an attempt in its history, whatever its outcome.
import { type AttemptSource, failStoredEvent, type FinishedStatus } from "~/models/stripe-event.server.ts";
import type { StripeEventStatus } from "~/models/stripe-event.server.ts";

export type ReplayOutcome =
  | { ok: true; status: FinishedStatus }
  /** `refused`: nothing was attempted (no such event, or it is finished); else the attempt failed. */
  | { ok: false; error: string; refused?: "not-found" | "finished" };

/** Events a replay may claim: the others are finished, and replaying them is refused, not attempted. */
export const REPLAYABLE_STATUSES: readonly StripeEventStatus[] = ["pending", "failed", "processing"];

/** The refusal support sees: `why` is "is processed", "was finished meanwhile"… */
export const notReplayable = (eventId: string, why: string): ReplayOutcome => ({
  ok: false,
  error: `Event ${eventId} ${why}: only failed or pending events can be replayed.`,
  refused: "finished",
});

export type ReplayAttempt = { source: AttemptSource; durationMs: () => number };

const errorMessage = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Runs one replay so that it is always recorded: `replay` either finishes the event (recording its
 * attempt in that transaction), or finds it already claimed and finished ("not-claimed": nothing to
 * record), or returns or throws why it could not; that failure is stored as an attempt with its error,
 * also when it came before any processing (an unreadable payload, the provider not reachable).
 */
export async function recordedReplay(
  eventId: string,
  source: AttemptSource,
  replay: (attempt: ReplayAttempt) => Promise<ReplayOutcome | "not-claimed">,
  onError: (error: unknown) => void,
): Promise<ReplayOutcome | "not-claimed"> {
  const started = performance.now();
  const attempt: ReplayAttempt = { source, durationMs: () => Math.round(performance.now() - started) };
  let outcome: ReplayOutcome | "not-claimed";
  try {
    outcome = await replay(attempt);
  } catch (error) {
    onError(error);
    outcome = { ok: false, error: errorMessage(error) };
  }
  if (outcome !== "not-claimed" && !outcome.ok) {
    await failStoredEvent(eventId, outcome.error, { source: attempt.source, durationMs: attempt.durationMs() });
  }
  return outcome;
}
