// POST /account/switch: the header's account switcher. The session acts for the chosen account from
// then on, only if the signed-in user belongs to it; back to the page it was chosen on.
import type { ActionFunctionArgs } from "@remix-run/node";
import { redirect } from "@remix-run/node";
import { forbidden, requireUser } from "~/web/auth.server.ts";
import { chooseAccountFor } from "~/web/session.server.ts";
import { readForm } from "~/utils/http.server.ts";
import { safeRedirect } from "~/utils/safe-redirect.ts";

export async function action({ request }: ActionFunctionArgs) {
  await requireUser(request);
  const form = await readForm(request);
  const accountId = Number(form.get("accountId"));
  if (!Number.isSafeInteger(accountId) || accountId <= 0 || !(await chooseAccountFor(request, accountId))) {
    throw forbidden("You are not a member of that account.");
  }
  return redirect(safeRedirect(form.get("next"), "/account"), 303);
}

export async function loader() {
  return redirect("/account");
}
