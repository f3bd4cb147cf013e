// /admin/tiers/new: create a tier (admins; support gets 403 on the page and on any POST).
import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { json } from "@remix-run/node";
import { Link, useActionData, useLoaderData } from "@remix-run/react";
import { EMPTY_TIER, TierForm } from "~/components/tier-form.tsx";
import { listPermissions } from "~/models/permission.server.ts";
import { requireRole } from "~/web/auth.server.ts";
import { readTierForm, saveTierFromForm } from "~/web/tier-actions.server.ts";

export const meta: MetaFunction = () => [{ title: "New tier · Admin · Tierdesk" }];

export async function loader({ request }: LoaderFunctionArgs) {
  await requireRole(request, ["admin"]);
  return json({ permissions: await listPermissions() });
}

export async function action({ request }: ActionFunctionArgs) {
  const user = await requireRole(request, ["admin"]);
  return saveTierFromForm(await readTierForm(request), user, null);
}

export default function NewTier() {
  const { permissions } = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>();
  return (
    <section>
      <p>
        <Link to="/admin/tiers">← All tiers</Link>
      </p>
      <h1>New tier</h1>
      <TierForm
        defaults={EMPTY_TIER}
        lastResult={actionData?.result}
        permissions={permissions}
        submitLabel="Create tier"
      />
    </section>
  );
}
