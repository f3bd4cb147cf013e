// Only an account's owners start checkout, open the portal, switch or resume its plan (issue 19): a
// member acting for the account is told whom to ask, with a 403.
import { listAccountOwnerEmails } from "~/models/account.server.ts";
import type { BillingOutcome } from "~/services/billing/outcomes.ts";
import { getAccountContext } from "./auth.server.ts";

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
