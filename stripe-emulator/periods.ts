// Billing periods: intervals added the way Stripe adds them.
import type { Subscription } from "./types.ts";

export type Interval = "day" | "week" | "month" | "year";

/** Adds billing intervals keeping the anchor day, clamped to short months (31 Jan → 28 Feb → 31 Mar). */
export function addInterval(anchor: number, interval: Interval, count: number): number {
  if (interval === "day" || interval === "week") return anchor + count * (interval === "day" ? 1 : 7) * 86_400;
  const d = new Date(anchor * 1000);
  const month = d.getUTCMonth() + count * (interval === "year" ? 12 : 1);
  const lastDay = new Date(Date.UTC(d.getUTCFullYear(), month + 1, 0)).getUTCDate();
  const date = Date.UTC(
    d.getUTCFullYear(),
    month,
    Math.min(d.getUTCDate(), lastDay),
    d.getUTCHours(),
    d.getUTCMinutes(),
    d.getUTCSeconds(),
  );
  return Math.floor(date / 1000);
}

/** When a subscription's current period ends. */
export const periodEnd = (sub: Subscription) => sub.items.data[0]?.current_period_end ?? sub.created;
