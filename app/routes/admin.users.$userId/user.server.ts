// The loader and action of /admin/users/:userId (route.tsx): the person (role, accounts) and the plan of
// their personal account (the oldest one they own) with why it is in force, and the sync, role and
// exempt-tier changes. Team accounts have their own page (/admin/accounts/:accountId).
import type { ActionFunctionArgs, LoaderFunctionArgs, SerializeFrom } from "@remix-run/node";
import { json } from "@remix-run/node";
import { getEntitlements } from "~/services/customers/entitlements.server.ts";
import { explainTierInForce } from "~/rules/support.ts";
import { FREE_TIER_KEY } from "~/rules/tiers.ts";
import { subscriptionForSupport } from "~/services/stripe/subscription-tier.server.ts";
import { changeUserRole } from "~/services/customers/user-admin.server.ts";
import { setExemptTier, syncAccountFromStripe } from "~/services/customers/account-admin.server.ts";
import { listAuditEntries } from "~/models/audit.server.ts";
import { listEventLog } from "~/models/event-log.server.ts";
import { livemodeOfCustomer } from "~/models/stripe-event.server.ts";
import { getTierWithPermissionsByKey, listExemptTiers } from "~/models/tier.server.ts";
import { listAccountsOfUser } from "~/models/account.server.ts";
import { getUserById } from "~/models/user.server.ts";
import { getBillingAccount, personalAccountIdOf } from "~/models/billing-account.server.ts";
import { auditEntryView } from "~/web/audit-view.server.ts";
import { requireRole, STAFF_ROLES } from "~/web/auth.server.ts";
import { jsonResponse, readForm } from "~/utils/http.server.ts";
import { ROLES } from "./roles.ts";

const EVENTS_SHOWN = 25;

/** The billing state of no account: what a user without a personal account (none exist) shows. */
const NO_ACCOUNT = {
  tier: null,
  tierId: null,
  stripeCustomerId: null,
  stripeSubscriptionId: null,
  subscriptionStatus: null,
  subscriptionSyncedAt: null,
  billingSource: null,
  whopUserId: null,
  whopMembershipId: null,
  whopMembershipStatus: null,
  whopManageUrl: null,
  whopLinkedBy: null,
} as const;

function userIdFrom(params: { userId?: string }) {
  const id = Number(params.userId);
  if (!Number.isSafeInteger(id) || id <= 0) throw jsonResponse({ error: "There is no such user." }, 404);
  return id;
}

const dashboardUrl = (livemode: boolean | null, kind: "customers" | "subscriptions", id: string) =>
  `https://dashboard.stripe.com/${livemode ? "" : "test/"}${kind}/${encodeURIComponent(id)}`;

export async function loader({ request, params }: LoaderFunctionArgs) {
  const viewer = await requireRole(request, STAFF_ROLES);
  const userId = userIdFrom(params);
  const person = await getUserById(userId);
  if (!person) throw jsonResponse({ error: `There is no user ${userId}.` }, 404);
  const personalId = await personalAccountIdOf(person.id);
  const personal = personalId ? await getBillingAccount(personalId) : null;
  // The plan shown is the personal account's; a user without one (none exist) shows as on no plan.
  const user = {
    ...person,
    ...(personal ?? NO_ACCOUNT),
    id: person.id,
    createdAt: person.createdAt,
    accountId: personal?.id ?? null,
  };
  const customerId = user.stripeCustomerId;
  const [entitlements, free, events, whopEvents, livemode, userHistory, accountHistory, exemptTiers, stripe, accounts] =
    await Promise.all([
      getEntitlements(user),
      getTierWithPermissionsByKey(FREE_TIER_KEY),
      customerId ? listEventLog({ q: customerId }, {}, EVENTS_SHOWN) : Promise.resolve(null),
      user.whopUserId
        ? listEventLog({ q: user.whopUserId, provider: "whop" }, {}, EVENTS_SHOWN)
        : Promise.resolve(null),
      customerId ? livemodeOfCustomer(customerId) : Promise.resolve(null),
      listAuditEntries({ entity: "user", entityId: String(user.id), take: 20 }),
      // Billing changes (sync, exempt tier, an unlinked customer) are the personal account's.
      user.accountId ? listAuditEntries({ entity: "account", entityId: String(user.accountId), take: 20 }) : [],
      listExemptTiers(),
      subscriptionForSupport(user.stripeSubscriptionId),
      listAccountsOfUser(user.id),
    ]);
  const why = explainTierInForce({
    storedTier: user.tier,
    subscriptionStatus: user.subscriptionStatus,
    freeTierName: free?.name ?? "Free",
    billingSource: user.billingSource,
    whopMembershipStatus: user.whopMembershipStatus,
    price: stripe.price,
  });
  return json({
    canAdmin: viewer.role === "admin",
    isSelf: viewer.id === user.id,
    user: {
      id: user.id,
      email: user.email,
      role: user.role,
      createdAt: user.createdAt.toISOString(),
      personalAccountId: user.accountId,
      storedTier: user.tier ? { key: user.tier.key, name: user.tier.name } : null,
      subscriptionStatus: user.subscriptionStatus,
      syncedAt: user.subscriptionSyncedAt?.toISOString() ?? null,
      stripeCustomerId: customerId,
      stripeSubscriptionId: user.stripeSubscriptionId,
      billingSource: user.billingSource,
      whop: user.whopMembershipId
        ? {
            membershipId: user.whopMembershipId,
            status: user.whopMembershipStatus,
            userId: user.whopUserId,
            linkedBy: user.whopLinkedBy,
            manageUrl: user.whopManageUrl,
          }
        : null,
    },
    inForce: { tierName: entitlements.tier?.name ?? why.tierName, reason: why.reason },
    permissions: entitlements.permissionDetails,
    dates: stripe.details?.dates ?? null,
    links: {
      livemode,
      customer: customerId ? dashboardUrl(livemode, "customers", customerId) : null,
      subscription: user.stripeSubscriptionId
        ? dashboardUrl(livemode, "subscriptions", user.stripeSubscriptionId)
        : null,
    },
    events: [...(events?.rows ?? []), ...(whopEvents?.rows ?? [])]
      .sort((a, b) => b.receivedAt.getTime() - a.receivedAt.getTime())
      .map((event) => ({
        eventId: event.eventId,
        eventType: event.eventType,
        status: event.status,
        receivedAt: event.receivedAt.toISOString(),
        outcome: event.error ?? event.note,
      })),
    moreEvents: events?.hasOlder ?? false,
    history: [...userHistory.slice(0, 20), ...accountHistory.slice(0, 20)]
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || Number(b.id - a.id))
      .slice(0, 20)
      .map(auditEntryView),
    exemptTiers,
    accounts: accounts.map((account) => ({ ...account, createdAt: account.createdAt.toISOString() })),
  });
}

export async function action({ request, params }: ActionFunctionArgs) {
  const userId = userIdFrom(params);
  const formData = await readForm(request);
  const intent = formData.get("intent");
  if (intent === "sync") {
    const viewer = await requireRole(request, STAFF_ROLES);
    const accountId = await personalAccountIdOf(userId);
    if (!accountId)
      return json({ kind: "sync" as const, ok: false as const, message: `No user ${userId}.` }, { status: 404 });
    const outcome = await syncAccountFromStripe({ id: viewer.id, email: viewer.email }, accountId);
    if (outcome.ok) return json({ kind: "sync" as const, ...outcome });
    const status = outcome.reason === "not-found" ? 404 : outcome.reason === "stripe-unavailable" ? 502 : 409;
    return json({ kind: "sync" as const, ok: false as const, message: outcome.message }, { status });
  }
  // Role and tier changes are for admins only: support's POST gets 403 here, not just a hidden form.
  const admin = await requireRole(request, ["admin"]);
  const actor = { id: admin.id, email: admin.email };
  if (intent === "role") {
    const role = ROLES.find((value) => value === formData.get("role"));
    if (!role) return json({ kind: "admin" as const, ok: false as const, message: "Choose a role." }, { status: 400 });
    const outcome = await changeUserRole(actor, userId, role);
    if (!outcome.ok)
      return json({ kind: "admin" as const, ok: false as const, message: outcome.message }, { status: outcome.status });
    return json({
      kind: "admin" as const,
      ok: true as const,
      message: outcome.changed ? `Role changed to ${role}; their sessions were ended.` : "Role unchanged.",
    });
  }
  if (intent === "tier") {
    const tierKey = String(formData.get("tier") ?? "") || null;
    const accountId = await personalAccountIdOf(userId);
    if (!accountId)
      return json({ kind: "admin" as const, ok: false as const, message: `No user ${userId}.` }, { status: 404 });
    const outcome = await setExemptTier(actor, accountId, tierKey);
    if (!outcome.ok)
      return json({ kind: "admin" as const, ok: false as const, message: outcome.message }, { status: outcome.status });
    return json({
      kind: "admin" as const,
      ok: true as const,
      message: outcome.changed ? "Tier changed." : "Tier unchanged.",
    });
  }
  return json({ kind: "admin" as const, ok: false as const, message: "Unknown action." }, { status: 400 });
}

/** What the page renders: the loader's data as it arrives in the browser. */
export type UserPage = SerializeFrom<typeof loader>;
