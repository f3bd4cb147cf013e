// /admin: the operator dashboard's shell, for admins and support staff.
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { json } from "@remix-run/node";
import { NavLink, Outlet, useLoaderData, useRouteError } from "@remix-run/react";
import { ErrorPanel } from "~/root.tsx";
import { requireRole, STAFF_ROLES } from "~/web/auth.server.ts";

export const meta: MetaFunction = () => [{ title: "Admin · Tierdesk" }];

export async function loader({ request }: LoaderFunctionArgs) {
  const user = await requireRole(request, STAFF_ROLES);
  return json({ role: user.role });
}

// Only pages that exist are linked, and only to those who may open them.
const SECTIONS: { to: string; label: string; end: boolean; adminOnly?: boolean }[] = [
  { to: "/admin", label: "Overview", end: true },
  { to: "/admin/tiers", label: "Tiers", end: false },
  { to: "/admin/permissions", label: "Permissions", end: false },
  { to: "/admin/users", label: "Users", end: false },
  { to: "/admin/accounts", label: "Accounts", end: false },
  { to: "/admin/events", label: "Stripe events", end: false },
  { to: "/admin/reconcile", label: "Reconciliation", end: false },
  { to: "/admin/webhooks", label: "Webhooks", end: false },
  { to: "/admin/api-keys", label: "API keys", end: false },
  { to: "/admin/api", label: "API reference", end: false, adminOnly: true },
  { to: "/admin/audit", label: "Audit log", end: false },
];

export default function AdminLayout() {
  const { role } = useLoaderData<typeof loader>();
  return (
    <div className="admin">
      <aside>
        <p className="admin-role">Signed in as {role}</p>
        <nav aria-label="Admin">
          {SECTIONS.filter((section) => role === "admin" || !section.adminOnly).map((section) => (
            <NavLink key={section.to} to={section.to} end={section.end}>
              {section.label}
            </NavLink>
          ))}
        </nav>
      </aside>
      <div className="admin-content">
        <Outlet />
      </div>
    </div>
  );
}

export function ErrorBoundary() {
  return <ErrorPanel error={useRouteError()} />;
}
