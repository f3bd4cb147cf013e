// /admin/users: find a customer. Search by email (or its beginning), Stripe customer or subscription
// id (?q=), filter by role, tier and subscription status; keyset pages (?after=/?before= user id),
// newest first. Everything is in the URL so support can paste a link.
import { KeysetPager } from "~/components/keyset-pager.tsx";
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { json } from "@remix-run/node";
import { Form, Link, useLoaderData, useSearchParams } from "@remix-run/react";
import { type ColumnDef, tableFeatures, useTable } from "@tanstack/react-table";
import { DataTable } from "~/components/data-table.tsx";
import { listTierKeys } from "~/models/tier.server.ts";
import { listUsersPage, type Role } from "~/models/user.server.ts";
import { requireRole, STAFF_ROLES } from "~/web/auth.server.ts";

export const meta: MetaFunction = () => [{ title: "Users · Admin · Tierdesk" }];

const ROLES = ["admin", "support", "customer"] as const satisfies readonly Role[];
const STATUSES = [
  "active",
  "trialing",
  "past_due",
  "incomplete",
  "unpaid",
  "paused",
  "canceled",
  "incomplete_expired",
  "none",
];

const positiveId = (value: string | null) => {
  const id = Number(value);
  return Number.isSafeInteger(id) && id > 0 ? id : undefined;
};

export async function loader({ request }: LoaderFunctionArgs) {
  await requireRole(request, STAFF_ROLES);
  const params = new URL(request.url).searchParams;
  const q = params.get("q")?.trim().slice(0, 254) || undefined;
  const role = ROLES.find((value) => value === params.get("role"));
  const tierKey = params.get("tier")?.slice(0, 32) || undefined;
  const status = STATUSES.find((value) => value === params.get("status"));
  const [page, tiers] = await Promise.all([
    listUsersPage(
      { q, role, tierKey, status },
      { after: positiveId(params.get("after")), before: positiveId(params.get("before")) },
    ),
    listTierKeys(),
  ]);
  return json({
    users: page.rows.map((row) => ({ ...row, createdAt: row.createdAt.toISOString() })),
    hasOlder: page.hasOlder,
    hasNewer: page.hasNewer,
    tiers,
  });
}

type UserRow = ReturnType<typeof useLoaderData<typeof loader>>["users"][number];

const features = tableFeatures({});
const columns: Array<ColumnDef<typeof features, UserRow>> = [
  {
    accessorKey: "email",
    header: "Email",
    cell: ({ row }) => <Link to={`/admin/users/${row.original.id}`}>{row.original.email}</Link>,
  },
  { accessorKey: "role", header: "Role" },
  { id: "tier", header: "Stored tier", cell: ({ row }) => row.original.tierName ?? "—" },
  {
    id: "status",
    header: "Subscription",
    cell: ({ row }) => row.original.subscriptionStatus ?? <span className="hint">none</span>,
  },
  {
    id: "customer",
    header: "Stripe customer",
    cell: ({ row }) => (row.original.stripeCustomerId ? <code>{row.original.stripeCustomerId}</code> : "—"),
  },
];

export default function AdminUsers() {
  const { users, hasOlder, hasNewer, tiers } = useLoaderData<typeof loader>();
  const [searchParams] = useSearchParams();
  const table = useTable({ features, columns, data: users });
  return (
    <section>
      <h1>Users</h1>
      <Form method="get" className="filters" role="search">
        <label>
          Search{" "}
          <input
            name="q"
            type="search"
            defaultValue={searchParams.get("q") ?? ""}
            placeholder="email, cus_… or sub_…"
          />
        </label>
        <label>
          Role{" "}
          <select name="role" defaultValue={searchParams.get("role") ?? ""}>
            <option value="">any</option>
            {ROLES.map((role) => (
              <option key={role} value={role}>
                {role}
              </option>
            ))}
          </select>
        </label>
        <label>
          Tier{" "}
          <select name="tier" defaultValue={searchParams.get("tier") ?? ""}>
            <option value="">any</option>
            {tiers.map((tier) => (
              <option key={tier.key} value={tier.key}>
                {tier.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Subscription{" "}
          <select name="status" defaultValue={searchParams.get("status") ?? ""}>
            <option value="">any</option>
            {STATUSES.map((status) => (
              <option key={status} value={status}>
                {status}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" className="secondary">
          Search
        </button>
        {searchParams.size ? <Link to="/admin/users">Clear</Link> : null}
      </Form>
      {users.length ? (
        <DataTable
          table={table}
          caption="Users"
          testId="users-table"
          rowAttributes={(user) => ({ "data-user": user.email })}
        />
      ) : (
        <p>No users match.</p>
      )}
      <KeysetPager newer={hasNewer ? users[0]?.id : null} older={hasOlder ? users.at(-1)?.id : null} />
    </section>
  );
}
