// The loader of /admin/accounts/:accountId (route.tsx): everything support needs to explain an
// account's plan and seats. A fixed handful of queries, each a range of an index.
import type { ActionFunctionArgs, LoaderFunctionArgs, SerializeFrom } from "@remix-run/node";
import { json } from "@remix-run/node";
import { explainTierInForce } from "~/rules/support.ts";
import { FREE_TIER_KEY } from "~/rules/tiers.ts";
import {
  getAccountForSupport,
  getTierName,
  listAccountEvents,
  listAccountMembers,
  listPendingInvitations,
} from "~/models/account-admin.server.ts";
import { getSeats } from "~/models/seats.server.ts";
import { livemodeOfCustomer } from "~/models/stripe-event.server.ts";
import { requireRole, STAFF_ROLES } from "~/web/auth.server.ts";
import { jsonResponse, readForm } from "~/utils/http.server.ts";
import { listExemptTiers } from "~/models/tier.server.ts";
import { setExemptTier, syncAccountFromStripe } from "~/services/customers/account-admin.server.ts";
import { changeMemberRole } from "~/services/customers/members.server.ts";
import { subscriptionForSupport } from "~/services/stripe/subscription-tier.server.ts";
import { isLiveSubscriptionStatus } from "~/rules/stripe-subscriptions.ts";

function accountIdFrom(params: { accountId?: string }) {
  const id = Number(params.accountId);
  if (!Number.isSafeInteger(id) || id <= 0 || id > 2_147_483_647) {
    throw jsonResponse({ error: "There is no such account." }, 404);
  }
  return id;
}

const dashboardUrl = (livemode: boolean | null, kind: "customers" | "subscriptions", id: string) =>
  `https://dashboard.stripe.com/${livemode ? "" : "test/"}${kind}/${encodeURIComponent(id)}`;

export async function loader({ request, params }: LoaderFunctionArgs) {
  const viewer = await requireRole(request, STAFF_ROLES);
  const accountId = accountIdFrom(params);
  const account = await getAccountForSupport(accountId);
  if (!account) throw jsonResponse({ error: `There is no account ${accountId}.` }, 404);
  const customerId = account.stripeCustomerId;
  const [freeTierName, seats, members, invitations, events, livemode, exemptTiers, stripe] = await Promise.all([
    getTierName(FREE_TIER_KEY),
    getSeats(account.id),
    listAccountMembers(account.id),
    listPendingInvitations(account.id),
    listAccountEvents(account),
    customerId ? livemodeOfCustomer(customerId) : Promise.resolve(null),
    listExemptTiers(),
    // The price is said only of a live subscription (a legacy price, in the explanation).
    subscriptionForSupport(isLiveSubscriptionStatus(account.subscriptionStatus) ? account.stripeSubscriptionId : null),
  ]);
  const why = explainTierInForce({
    storedTier: account.tier,
    subscriptionStatus: account.subscriptionStatus,
    freeTierName: freeTierName ?? "Free",
    billingSource: account.billingSource,
    whopMembershipStatus: account.whopMembershipStatus,
    price: stripe.price,
  });
  return json({
    canAdmin: viewer.role === "admin",
    exemptTiers,
    account: {
      id: account.id,
      name: account.name,
      slug: account.slug,
      createdAt: account.createdAt.toISOString(),
    },
    seats: {
      limit: seats?.limit ?? null,
      used: seats?.used ?? members.length,
      pending: seats?.pending ?? invitations.length,
      overLimitSince: seats?.overLimitSince?.toISOString() ?? null,
    },
    members: members.map((member) => ({ ...member, since: member.since.toISOString() })),
    invitations: invitations.map((invitation) => ({
      ...invitation,
      sentAt: invitation.sentAt.toISOString(),
      expiresAt: invitation.expiresAt.toISOString(),
    })),
    plan: {
      storedTier: account.tier ? { key: account.tier.key, name: account.tier.name } : null,
      inForce: why,
      subscriptionStatus: account.subscriptionStatus,
      syncedAt: account.subscriptionSyncedAt?.toISOString() ?? null,
      billingSource: account.billingSource,
      billingSince: account.billingSince?.toISOString() ?? null,
      stripeCustomerId: customerId,
      stripeSubscriptionId: account.stripeSubscriptionId,
      links: {
        livemode,
        customer: customerId ? dashboardUrl(livemode, "customers", customerId) : null,
        subscription: account.stripeSubscriptionId
          ? dashboardUrl(livemode, "subscriptions", account.stripeSubscriptionId)
          : null,
      },
      whop: account.whopMembershipId
        ? {
            membershipId: account.whopMembershipId,
            status: account.whopMembershipStatus,
            userId: account.whopUserId,
            linkedBy: account.whopLinkedBy,
            manageUrl: account.whopManageUrl,
          }
        : null,
    },
    events: events.map((event) => ({
      eventId: event.eventId,
      provider: event.provider,
      eventType: event.eventType,
      status: event.status,
      receivedAt: event.receivedAt.toISOString(),
      outcome: event.error ?? event.note,
    })),
  });
}

/** What the page renders: the loader's data as it arrives in the browser. */
export type AccountPage = SerializeFrom<typeof loader>;

/**
 * "sync" (staff): pull the account's subscription from Stripe, as a webhook would apply it.
 * "tier" (admins): put the account on an exempt tier, or take it off one.
 * "member-role" (admins): make a member an owner, or an owner a member (never the last owner).
 * Each change is audited on the account.
 */
export async function action({ request, params }: ActionFunctionArgs) {
  const accountId = accountIdFrom(params);
  const formData = await readForm(request);
  const intent = formData.get("intent");
  if (intent === "sync") {
    const viewer = await requireRole(request, STAFF_ROLES);
    const outcome = await syncAccountFromStripe({ id: viewer.id, email: viewer.email }, accountId);
    if (outcome.ok) return json({ kind: "sync" as const, ...outcome });
    const status = outcome.reason === "not-found" ? 404 : outcome.reason === "stripe-unavailable" ? 502 : 409;
    return json({ kind: "sync" as const, ok: false as const, message: outcome.message }, { status });
  }
  // Support reads; only admins change an account (their POST gets 403 here, not just a hidden form).
  const admin = await requireRole(request, ["admin"]);
  const actor = { id: admin.id, email: admin.email };
  if (intent === "tier") {
    const outcome = await setExemptTier(actor, accountId, String(formData.get("tier") ?? "") || null);
    if (!outcome.ok)
      return json({ kind: "admin" as const, ok: false as const, message: outcome.message }, { status: outcome.status });
    return json({
      kind: "admin" as const,
      ok: true as const,
      message: outcome.changed ? "Tier changed." : "Tier unchanged.",
    });
  }
  if (intent === "member-role") {
    const userId = Number(formData.get("userId"));
    const role = formData.get("role");
    const account = await getAccountForSupport(accountId);
    const member =
      account && Number.isSafeInteger(userId)
        ? (await listAccountMembers(accountId)).find((m) => m.userId === userId)
        : null;
    if (!account || !member || (role !== "owner" && role !== "member")) {
      return json(
        { kind: "admin" as const, ok: false as const, message: "Choose a member and a role." },
        { status: 400 },
      );
    }
    const outcome = await changeMemberRole(accountId, userId, role, {
      actor,
      accountName: account.name,
      memberEmail: member.email,
    });
    if (!outcome.ok)
      return json({ kind: "admin" as const, ok: false as const, message: outcome.message }, { status: outcome.status });
    return json({
      kind: "admin" as const,
      ok: true as const,
      message: `${member.email} is now ${role === "owner" ? "an owner" : "a member"}.`,
    });
  }
  return json({ kind: "admin" as const, ok: false as const, message: "Unknown action." }, { status: 400 });
}
