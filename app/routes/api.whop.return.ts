// GET /api/whop/return: Whop's checkout sends the buyer back here (the checkout configuration's
// redirect_url). Applies the membership as Whop has it now, so /account shows the new plan even when
// the webhook is late (the webhook then changes nothing), and goes on to /account either way.
import type { LoaderFunctionArgs } from "@remix-run/node";
import { redirect } from "@remix-run/node";
import { fallBackToStripe } from "~/services/stripe/fallback.server.ts";
import { confirmWhopPurchase } from "~/services/whop/fulfilment.server.ts";
import { getAccountContext, requireUser } from "~/web/auth.server.ts";
import { logger } from "~/utils/logger.server.ts";

export async function loader({ request }: LoaderFunctionArgs) {
  const user = await requireUser(request);
  const { current } = await getAccountContext(request);
  if (!current) return redirect("/account");
  try {
    logger.info(
      { userId: user.id, accountId: current.id, outcome: await confirmWhopPurchase(current.id, fallBackToStripe) },
      "back from Whop checkout",
    );
  } catch (error) {
    // The webhook applies it anyway; the page must not fail because Whop is slow.
    logger.warn(
      { userId: user.id, reason: error instanceof Error ? error.message : String(error) },
      "could not confirm the Whop purchase",
    );
  }
  return redirect("/account");
}
