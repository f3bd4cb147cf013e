// Only an account's owners start checkout, open the portal, switch or resume its plan (issue 19): a
// member acting for the account is told whom to ask, with a 403.
import { listAccountOwnerEmails } from "~/models/account.server.ts";
import type { BillingOutcome } from "~/services/billing/outcomes.ts";
import type { BillingActor } from "~/services/stripe/checkout.server.ts";
import { jsonResponse } from "~/utils/http.server.ts";
import { getAccountContext, getCurrentBillingAccount } from "./auth.server.ts";

type Refusal = Extract<BillingOutcome, { ok: false }>;

/** The refusal a member of the session's current account gets; null for its owners (and without accounts). */
export async function ownersOnlyRefusal(request: Request): Promise<Refusal | null> {
  const { current } = await getAccountContext(request);
  if (!current || current.role === "owner") return null;
  const owners = await listAccountOwnerEmails(current.id);
  return {
    ok: false,
    problem: "not-an-owner",
    message: `Only the owners of ${current.name} can change its plan or billing: ask ${owners.join(" or ")}.`,
  };
}

/**
 * The account a billing action is for (the session's current one) and the person acting: checkout,
 * the portal and plan switches act for it. Throws a 409 for a user without accounts (none exist: sign-up
 * creates one), rather than billing the wrong one.
 */
export async function billingActorFor(request: Request, user: { email: string }): Promise<BillingActor> {
  const account = await getCurrentBillingAccount(request);
  if (!account) throw jsonResponse({ error: "You belong to no account: nothing to bill." }, 409);
  return { account, email: user.email };
}
