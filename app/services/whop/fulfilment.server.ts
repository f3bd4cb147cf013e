// Applies what Whop says about a membership to the Tierdesk account that bought it, inside the caller's
// transaction. Shared by the Whop webhook, replays and the return from Whop's checkout; idempotent:
// applying the same state twice changes nothing. Gathers facts (database, Whop; the other
// provider through the fallback it is given), asks the rules (app/rules/), and writes the answer.
import { announceAccountChange } from "~/services/webhooks/outbox.server.ts";
import { inTransaction, type Tx } from "~/models/transaction.server.ts";
import {
  findWhopTier,
  listWhopProductKeys,
  lockWhopBillingAccount,
  updateWhopBillingAccount,
  type WhopBillingUpdate,
  type WhopBillingAccount,
} from "~/models/whop.server.ts";
import { withDeadline } from "~/utils/deadline.ts";
import { FulfilmentError, type FulfilmentOutcome } from "~/services/billing/outcomes.ts";
import { accountIdNamed } from "~/services/billing/named-account.server.ts";
import type { ProviderFallback } from "~/services/billing/paid-tier-overlap.server.ts";
import { describeNamedAccount, namedAccount } from "~/rules/stripe-events.ts";
import { refreshSeatLimitMark } from "~/models/seats.server.ts";
import { planWhopMembershipChange } from "~/rules/whop.ts";
import { whopMembershipStatusEffect } from "~/rules/whop-status.ts";
import { listMemberships, type WhopMembership, whopMode } from "./client.server.ts";

type Linked = { user: WhopBillingAccount; linkedBy: "metadata" | "email" | null };

/**
 * The account a membership belongs to, locked: the one its metadata names (Tierdesk's own checkout:
 * the buyer's current account; before accounts, the buyer's user, whose personal account it is), else
 * the one already holding this membership, else the one linked to its Whop user, else (only for
 * products Tierdesk sells) the personal account of the user with the buyer's email.
 */
async function lockMember(tx: Tx, membership: WhopMembership, { ours }: { ours: boolean }): Promise<Linked | null> {
  const named = namedAccount(membership.metadata);
  if (named) {
    const accountId = await accountIdNamed(tx, named);
    const account = accountId ? await lockWhopBillingAccount(tx, { id: accountId }) : null;
    if (account) return { user: account, linkedBy: "metadata" };
    throw new FulfilmentError(
      `Whop membership ${membership.id} names Tierdesk ${describeNamedAccount(named)}, which does not exist.`,
    );
  }
  const holder = await lockWhopBillingAccount(tx, { whopMembershipId: membership.id });
  if (holder) return { user: holder, linkedBy: null };
  if (!ours) return null;
  const whopUser = membership.user;
  if (whopUser) {
    const byWhopUser = await lockWhopBillingAccount(tx, { whopUserId: whopUser.id });
    if (byWhopUser) return { user: byWhopUser, linkedBy: null };
    if (whopUser.email) {
      const byEmail = await lockWhopBillingAccount(tx, { email: whopUser.email });
      if (byEmail) return { user: byEmail, linkedBy: "email" };
    }
  }
  return null;
}

/**
 * Applies a membership's state as Whop reported it (its `updated_at`; `reportedAt` when it has none),
 * in `tx`. Nothing newer is overwritten: an older state is stale. Throws FulfilmentError (nothing
 * written) when it cannot be applied and support must look.
 */
export async function applyWhopMembership(
  tx: Tx,
  membership: WhopMembership,
  { reportedAt, fallBack }: { reportedAt: Date; fallBack: ProviderFallback },
): Promise<FulfilmentOutcome> {
  const observedAt = membership.updated_at ?? reportedAt;
  const productId = membership.product.id;
  const tier = await findWhopTier(tx, productId);
  const granting = whopMembershipStatusEffect(membership.status) === "grant";
  const namesUser = namedAccount(membership.metadata) !== null;
  if (granting && !tier) {
    if (namesUser) {
      throw new FulfilmentError(
        `Whop product ${productId} of membership ${membership.id} belongs to no Whop tier: set it as a Whop tier's product key, then replay.`,
      );
    }
    return {
      result: "ignored",
      accountId: null,
      detail: `Whop product ${productId} belongs to no Whop tier (not sold through Tierdesk)`,
    };
  }

  const linked = await lockMember(tx, membership, { ours: tier !== null });
  if (!linked) {
    if (!tier)
      return {
        result: "ignored",
        accountId: null,
        detail: `Whop product ${productId} belongs to no Whop tier, and no account holds membership ${membership.id}`,
      };
    const buyer = membership.user
      ? `Whop user ${membership.user.id}${membership.user.email ? `, ${membership.user.email}` : ""}`
      : "no Whop user";
    throw new FulfilmentError(
      `No Tierdesk account for Whop membership ${membership.id} (${buyer}): it carries no Tierdesk account id and no user has its email.`,
    );
  }
  const { user, linkedBy } = linked;
  const plan = planWhopMembershipChange({
    user,
    membership: { id: membership.id, status: membership.status, createdAt: membership.created_at ?? null },
    tier,
    observedAt,
  });
  if ("stale" in plan) return { result: "stale", accountId: user.id, detail: plan.stale };
  if ("ignored" in plan) return { result: "ignored", accountId: user.id, detail: plan.ignored };

  const update: WhopBillingUpdate = {
    whopMembershipId: membership.id,
    whopMembershipStatus: membership.status,
    whopProductId: productId,
    whopManageUrl: membership.manage_url ?? null,
    whopSyncedAt: observedAt,
    ...(membership.user ? { whopUserId: membership.user.id } : {}),
    ...(linkedBy ? { whopLinkedBy: linkedBy } : {}),
  };
  const change = plan.tier;
  const fallback = typeof change === "object" && "fallbackTo" in change;
  if (typeof change === "object" && "grant" in change) {
    Object.assign(update, {
      tierId: change.grant.id,
      billingSource: "whop",
      billingSince: membership.created_at ?? null,
    });
  } else if (change === "clear" || fallback) {
    Object.assign(update, { tierId: null, billingSource: null, billingSince: null });
  }
  await updateWhopBillingAccount(tx, user.id, update);
  await refreshSeatLimitMark(tx, [user.id]);
  await announceAccountChange(tx, [user.id], "account.entitlements.updated");

  let detail = plan.detail;
  if (linkedBy === "email") detail += ` (linked by email: ${membership.user?.email ?? "?"})`;
  if (fallback) detail += `; ${await fallBack(tx, user)}`;
  return { result: "applied", accountId: user.id, detail };
}

const CONFIRM_DEADLINE_MS = 5_000;

/**
 * Back from Whop's checkout: applies the newest membership naming this account (of a product Tierdesk
 * sells) as Whop has it now, so the customer sees the new tier even when the webhook is late. The
 * webhook then changes nothing. Returns what happened, in words, for the log.
 */
export async function confirmWhopPurchase(accountId: number, fallBack: ProviderFallback): Promise<string> {
  if (whopMode() === "disabled") return "Whop is not configured";
  const productIds = await listWhopProductKeys();
  if (!productIds.length) return "no tier sells through Whop";
  const memberships = await withDeadline(listMemberships({ productIds }), CONFIRM_DEADLINE_MS, "Whop");
  const newest = memberships
    .filter((membership) => {
      const named = namedAccount(membership.metadata);
      return named !== null && "accountId" in named && named.accountId === accountId;
    })
    .sort((a, b) => (b.updated_at?.getTime() ?? 0) - (a.updated_at?.getTime() ?? 0))[0];
  if (!newest) return "no membership names this account yet";
  const outcome = await inTransaction((tx) => applyWhopMembership(tx, newest, { reportedAt: new Date(), fallBack }));
  return `${outcome.result}: ${outcome.detail}`;
}
