// Guards by what a user's plan permits (Epic Stack's permissions.server.ts is the model).
import { getEntitlements } from "~/services/customers/entitlements.server.ts";
import { forbidden, requireUser } from "./auth.server.ts";

/** The signed-in user when their tier grants `permission`; otherwise a 403 naming it. */
export async function requirePermission(request: Request, permission: string) {
  const user = await requireUser(request);
  const entitlements = await getEntitlements(user);
  if (!entitlements.permissions.includes(permission)) {
    throw forbidden(`Your plan does not include "${permission}". Upgrade at /pricing.`);
  }
  return { user, entitlements };
}
