import type { LoaderFunctionArgs } from "@remix-run/node";
import { json } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { requireRole, STAFF_ROLES } from "~/utils/auth.server.ts";
import { countFailedEvents } from "~/models/stripe-event.server.ts";
import { countTiers } from "~/models/tier.server.ts";
import { countUsers } from "~/models/user.server.ts";

export async function loader({ request }: LoaderFunctionArgs) {
  await requireRole(request, STAFF_ROLES);
  const [tiers, users, failedEvents] = await Promise.all([
    countTiers(),
    countUsers(),
    countFailedEvents(),
  ]);
  return json({ tiers, users, failedEvents });
}

export default function AdminOverview() {
  const { tiers, users, failedEvents } = useLoaderData<typeof loader>();
  return (
    <section>
      <h1>Overview</h1>
      <ul className="stats">
        <li>
          <strong>{tiers}</strong> subscription tiers
        </li>
        <li>
          <strong>{users}</strong> users
        </li>
        <li>
          <strong>{failedEvents}</strong> <Link to="/admin/events?status=failed">failed Stripe events</Link>
        </li>
      </ul>
    </section>
  );
}
