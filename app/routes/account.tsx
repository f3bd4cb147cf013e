import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { json } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { getEntitlements } from "~/models/entitlements.server.ts";
import { requireUser } from "~/utils/auth.server.ts";

export const meta: MetaFunction = () => [{ title: "Your account · Tierdesk" }];

export async function loader({ request }: LoaderFunctionArgs) {
  const user = await requireUser(request);
  const entitlements = await getEntitlements(user);
  return json({ email: user.email, entitlements });
}

export default function Account() {
  const { email, entitlements } = useLoaderData<typeof loader>();
  return (
    <section className="card">
      <h1>Your account</h1>
      <dl className="facts">
        <dt>Email</dt>
        <dd>{email}</dd>
        <dt>Plan</dt>
        <dd data-testid="current-tier">{entitlements.tier?.name ?? "Free"}</dd>
      </dl>
      <h2>What your plan includes</h2>
      {entitlements.permissions.length ? (
        <ul data-testid="permissions">
          {entitlements.permissions.map((permission) => (
            <li key={permission}>
              <code>{permission}</code>
            </li>
          ))}
        </ul>
      ) : (
        <p>No extra permissions.</p>
      )}
      <p>
        <Link to="/pricing">Compare plans</Link>
      </p>
    </section>
  );
}
