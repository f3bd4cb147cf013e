// /api/v1's answers about one account: its entitlements (tier, status, permissions, seats, where the
// tier comes from) and "may it do this?". Both read one cached value per account (./cache.server.ts),
// computed from the same rules as the pages (getEntitlements, explainTierInForce, the seat SQL).
import { findAccountIdByExternalId } from "~/models/account.server.ts";
import { getBillingAccount } from "~/models/billing-account.server.ts";
import { getSeats } from "~/models/seats.server.ts";
import { getTierWithPermissions, getTierWithPermissionsByKey } from "~/models/tier.server.ts";
import { type CheckDecision, type CheckFacts, decideCheck } from "~/rules/api-check.ts";
import { explainTierInForce } from "~/rules/support.ts";
import { getEntitlements } from "~/services/customers/entitlements.server.ts";
import { FREE_TIER_KEY } from "~/utils/granting-statuses.ts";
import { cachedAccount, cachedExternalId } from "./cache.server.ts";
import type { AccountRef, CheckResponse, EntitlementsResponse } from "./schemas.ts";

type AccountView = { entitlements: EntitlementsResponse; facts: CheckFacts };

async function loadAccountView(accountId: number): Promise<AccountView | null> {
  const [account, seats] = await Promise.all([getBillingAccount(accountId), getSeats(accountId)]);
  if (!account || !seats) return null;
  const entitlements = await getEntitlements(account);
  const stored = account.tier;
  const freeTierName =
    entitlements.provider === null
      ? (entitlements.tier?.name ?? "no tier")
      : ((await getTierWithPermissionsByKey(FREE_TIER_KEY))?.name ?? "no tier");
  const { reason } = explainTierInForce({
    storedTier: stored,
    subscriptionStatus: account.subscriptionStatus,
    freeTierName,
    billingSource: account.billingSource,
    whopMembershipStatus: account.whopMembershipStatus,
  });
  // Stripe's `unpaid`: a past-due renewal whose retries ran out (the end of the grace past_due gives).
  const unpaid = stored && entitlements.provider === null && account.subscriptionStatus === "unpaid";
  const lapsedTier = unpaid && account.billingSource !== "whop" ? await getTierWithPermissions(stored.id) : null;
  return {
    entitlements: {
      account: { id: account.id, externalId: account.externalId, name: account.name },
      tier: entitlements.tier,
      status: entitlements.status,
      permissions: entitlements.permissions,
      seats: { limit: seats.limit, used: seats.used, pending: seats.pending },
      source: { provider: entitlements.provider, reason },
    },
    facts: {
      permissions: entitlements.permissions,
      tierName: entitlements.tier?.name ?? null,
      lapsedForNonPayment: lapsedTier
        ? { name: lapsedTier.name, permissions: lapsedTier.permissions.map(({ permission }) => permission.name) }
        : null,
      overSeatLimit: seats.overLimitSince !== null || (seats.limit !== null && seats.used > seats.limit),
    },
  };
}

async function accountView(ref: AccountRef): Promise<AccountView | null> {
  const accountId =
    "id" in ref ? ref.id : await cachedExternalId(ref.externalId, () => findAccountIdByExternalId(ref.externalId));
  return accountId === null ? null : cachedAccount(accountId, () => loadAccountView(accountId));
}

/** The account's entitlements; null when there is no such account. */
export async function accountEntitlements(ref: AccountRef): Promise<EntitlementsResponse | null> {
  return (await accountView(ref))?.entitlements ?? null;
}

/** Whether the account may use `permission`, and why not (decision 017). */
export async function checkPermission(ref: AccountRef, permission: string): Promise<CheckResponse> {
  const view = await accountView(ref);
  if (!view) {
    return {
      allowed: false,
      reason: { code: "unknown_account", message: "No account has this id or external id." },
      tier: null,
      warnings: [],
    };
  }
  const decision: CheckDecision = decideCheck(view.facts, permission);
  return { ...decision, tier: view.entitlements.tier };
}
