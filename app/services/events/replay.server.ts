// Replaying a stored event, Stripe's or Whop's (support's "Replay", or one event of a bulk replay):
// finds it, refuses a finished one, and hands it to its provider, which runs it through the one
// webhook pipeline again. Wires the providers together (a lapsed Whop membership falls back to Stripe).
import { getStoredEvent } from "~/models/stripe-event.server.ts";
import { notReplayable, REPLAYABLE_STATUSES, type ReplayOutcome } from "~/services/billing/replay.server.ts";
import { fallBackToStripe } from "~/services/stripe/fallback.server.ts";
import { replayStripeEvent } from "~/services/stripe/webhook.server.ts";
import { replayWhopEvent } from "~/services/whop/webhook.server.ts";

/**
 * Replays a stored event. Every replay of a failed or pending event is an attempt, also one that could
 * not start (unreadable, the provider not reachable); a finished or unknown event is refused.
 */
export async function replayStoredEvent(
  eventId: string,
  { bulk = false }: { bulk?: boolean } = {},
): Promise<ReplayOutcome> {
  const stored = await getStoredEvent(eventId);
  if (!stored) return { ok: false, error: `No stored event ${eventId}.`, refused: "not-found" };
  if (!REPLAYABLE_STATUSES.includes(stored.status)) return notReplayable(eventId, `is ${stored.status}`);
  if (stored.provider === "whop") return replayWhopEvent(stored, { bulk, fallBack: fallBackToStripe });
  return replayStripeEvent(stored, { bulk });
}
