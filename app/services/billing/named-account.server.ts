// Which account a provider's object names in its metadata (Tierdesk's own checkouts), for every
// provider: an account id, or before accounts existed a user id, whose personal account took over
// their billing (docs/decisions/016).
import { personalAccountIdOf } from "~/models/billing-account.server.ts";
import type { Tx } from "~/models/transaction.server.ts";
import type { NamedAccount } from "~/rules/stripe-events.ts";

/** The id of the account `named` names (a legacy user id: that user's personal account), or null. */
export async function accountIdNamed(tx: Tx, named: NamedAccount): Promise<number | null> {
  if (!named) return null;
  return "accountId" in named ? named.accountId : personalAccountIdOf(named.legacyUserId, tx);
}
