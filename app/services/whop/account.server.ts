// The Whop side of /account and support's user page: the membership's renewal or end date, asked of
// Whop (never stored here), and where the customer manages it. Never slows a page down for long.
import { withDeadline } from "~/utils/deadline.ts";
import { isLiveWhopStatus } from "~/rules/whop-status.ts";
import { retrieveMembership, whopMode } from "./client.server.ts";

export type WhopMembershipDates = { renewsAt: string | null; cancelsAt: string | null };

/** The membership's next renewal, or the date it ends when set to cancel; null when Whop cannot tell us quickly. */
export async function fetchWhopMembershipDates(
  membershipId: string,
  deadlineMs = 2_500,
): Promise<WhopMembershipDates | null> {
  if (whopMode() === "disabled") return null;
  try {
    const membership = await withDeadline(retrieveMembership(membershipId), deadlineMs, "Whop");
    if (!membership || !isLiveWhopStatus(membership.status)) return { renewsAt: null, cancelsAt: null };
    const periodEnd = membership.renewal_period_end?.toISOString() ?? null;
    const ending = membership.cancel_at_period_end === true || membership.status === "canceling";
    return { renewsAt: ending ? null : periodEnd, cancelsAt: ending ? periodEnd : null };
  } catch {
    return null;
  }
}

export type WhopBillingView = {
  membershipId: string;
  status: string | null;
  /** Whop's page where the customer cancels or changes the membership. */
  manageUrl: string | null;
  /** How the membership was linked to the account: Tierdesk's checkout ("metadata") or the buyer's "email". */
  linkedBy: string | null;
  dates: WhopMembershipDates | null;
};

/** Everything a page shows about a user's Whop membership (null when they have none): one Whop call at most. */
export async function getWhopBillingView(user: {
  whopMembershipId: string | null;
  whopMembershipStatus: string | null;
  whopManageUrl: string | null;
  whopLinkedBy: string | null;
}): Promise<WhopBillingView | null> {
  if (!user.whopMembershipId) return null;
  const dates = isLiveWhopStatus(user.whopMembershipStatus)
    ? await fetchWhopMembershipDates(user.whopMembershipId)
    : null;
  return {
    membershipId: user.whopMembershipId,
    status: user.whopMembershipStatus,
    manageUrl: user.whopManageUrl,
    linkedBy: user.whopLinkedBy,
    dates,
  };
}
