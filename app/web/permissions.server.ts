// Guards by what the current account's plan permits (Epic Stack's permissions.server.ts is the model).
import { getEntitlements } from "~/services/customers/entitlements.server.ts";
import { forbidden, getAccountContext, getCurrentBillingAccount, requireUser } from "./auth.server.ts";

/**
 * The signed-in user when the plan of the account they act for grants `permission`; otherwise a 403
 * naming it. Members use their account's plan: the tier is the account's, not the person's.
 */
export async function requirePermission(request: Request, permission: string) {
  const user = await requireUser(request);
  const [account, { current }] = await Promise.all([getCurrentBillingAccount(request), getAccountContext(request)]);
  const entitlements = account ? await getEntitlements(account) : null;
  if (!entitlements?.permissions.includes(permission)) {
    const whose = current ? `${current.name}'s plan` : "Your plan";
    throw forbidden(`${whose} does not include "${permission}". Upgrade at /pricing.`);
  }
  return { user, account, entitlements };
}
