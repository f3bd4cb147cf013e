// What a Whop membership status means, and which of two membership states is newer.
// Pure functions of plain values: no database, no Whop, no clock (docs/decisions/004).
import type { StatusEffect } from "./stripe-subscriptions.ts";

/** Whop's membership statuses (REST API v1). */
export const WHOP_MEMBERSHIP_STATUSES = [
  "trialing",
  "active",
  "past_due",
  "canceling",
  "completed",
  "canceled",
  "expired",
  "unresolved",
  "drafted",
] as const;

/**
 * What a Whop membership status means for the user's tier.
 * - `active`, `trialing`: paid (or on trial) → the tier whose Whop product key is the membership's product.
 * - `past_due`: a renewal failed and Whop is retrying → keep the tier (grace period).
 * - `canceling`: set to end at the end of the period, still paid until then → keep the tier.
 * - `drafted`: a checkout that has not been paid → change nothing until it is.
 * - `completed`, `canceled`, `expired`, `unresolved` → back to free.
 * Unknown future statuses are treated as lapsed: access is never granted by accident.
 */
export function whopMembershipStatusEffect(
  status: (typeof WHOP_MEMBERSHIP_STATUSES)[number] | (string & {}),
): StatusEffect {
  switch (status) {
    case "active":
    case "trialing":
    case "past_due":
    case "canceling":
      return "grant";
    case "drafted":
      return "no_change";
    default:
      return "revoke";
  }
}

export function isLiveWhopStatus(status: string | null | undefined): boolean {
  return status !== null && status !== undefined && whopMembershipStatusEffect(status) === "grant";
}

/**
 * Whether a membership state Whop reported at `observedAt` (the membership's `updated_at`) may replace
 * the one applied at `appliedAt`. Deliveries are unordered: an older state is stale. The same
 * `updated_at` is the same state of the membership, so applying it again changes nothing.
 */
export function whopFreshness(observedAt: Date, appliedAt: Date | null): "newer" | "stale" {
  return appliedAt && observedAt.getTime() < appliedAt.getTime() ? "stale" : "newer";
}
