// /admin/accounts: find an account. Search by its name or slug (their beginning, any case), a member's
// email (or its beginning), a Stripe customer or subscription id or a Whop user or membership id (?q=);
// filter by tier, Stripe subscription status and "over its seat limit"; keyset pages (?after=/?before=
// account id), newest first. Everything is in the URL so support can paste a link.
import { isOverSeatLimit } from "~/rules/seats.ts";
import { KeysetPager } from "~/components/keyset-pager.tsx";
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { json } from "@remix-run/node";
import { Form, Link, useLoaderData, useSearchParams } from "@remix-run/react";
import { type ColumnDef, tableFeatures, useTable } from "@tanstack/react-table";
import { DataTable } from "~/components/data-table.tsx";
import { listAccountsPage } from "~/models/account-admin.server.ts";
import { listTierKeys } from "~/models/tier.server.ts";
import { FREE_TIER_KEY } from "~/rules/tiers.ts";
import { requireRole, STAFF_ROLES } from "~/web/auth.server.ts";

export const meta: MetaFunction = () => [{ title: "Accounts · Admin · Tierdesk" }];

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
  const tierKey = params.get("tier")?.slice(0, 32) || undefined;
  const status = STATUSES.find((value) => value === params.get("status"));
  const overLimit = params.get("overLimit") === "1";
  const [page, tiers] = await Promise.all([
    listAccountsPage(
      { q, tierKey, orNoTier: tierKey === FREE_TIER_KEY, status, overLimit },
      { after: positiveId(params.get("after")), before: positiveId(params.get("before")) },
    ),
    listTierKeys(),
  ]);
  return json({
    accounts: page.rows.map((row) => ({
      ...row,
      createdAt: row.createdAt.toISOString(),
      overLimitSince: row.overLimitSince?.toISOString() ?? null,
    })),
    hasOlder: page.hasOlder,
    hasNewer: page.hasNewer,
    tiers,
  });
}

type AccountRow = ReturnType<typeof useLoaderData<typeof loader>>["accounts"][number];

/** The provider's status that decides the account's tier: Whop's when Whop granted it, else Stripe's. */
function billingStatus(account: AccountRow) {
  if (account.billingSource === "whop" || (!account.subscriptionStatus && account.whopMembershipStatus)) {
    return `${account.whopMembershipStatus ?? "none"} (Whop)`;
  }
  return account.subscriptionStatus;
}

/** A day as "6 Dec 2026", in UTC so server and browser render the same text. */
const dayFormat = new Intl.DateTimeFormat("en-GB", { dateStyle: "medium", timeZone: "UTC" });

const isOverLimit = (account: AccountRow) =>
  isOverSeatLimit({ overLimitSince: account.overLimitSince, limit: account.seatLimit, used: account.members });

const features = tableFeatures({});
const columns: Array<ColumnDef<typeof features, AccountRow>> = [
  {
    accessorKey: "name",
    header: "Account",
    cell: ({ row }) => <Link to={`/admin/accounts/${row.original.id}`}>{row.original.name}</Link>,
  },
  { id: "slug", header: "Slug", cell: ({ row }) => <code>{row.original.slug}</code> },
  { id: "tier", header: "Stored tier", cell: ({ row }) => row.original.tierName ?? "—" },
  {
    id: "status",
    header: "Subscription",
    cell: ({ row }) => <span>{billingStatus(row.original) ?? <span className="hint">none</span>}</span>,
  },
  {
    id: "seats",
    header: "Seats",
    cell: ({ row }) => {
      const { members, seatLimit } = row.original;
      return (
        <span>
          {members} / {seatLimit ?? "no limit"}
          {isOverLimit(row.original) ? (
            <>
              {" · "}
              <span className="status status-failed">over limit</span>
            </>
          ) : null}
        </span>
      );
    },
  },
  {
    id: "owners",
    header: "Owners",
    cell: ({ row }) => {
      const [first, ...others] = row.original.owners;
      if (!first) return <span className="hint">none</span>;
      return (
        <span>
          {first}
          {others.length ? <span className="hint"> +{others.length}</span> : null}
        </span>
      );
    },
  },
  {
    id: "created",
    header: "Created",
    cell: ({ row }) => <span>{dayFormat.format(new Date(row.original.createdAt))}</span>,
  },
];

export default function AdminAccounts() {
  const { accounts, hasOlder, hasNewer, tiers } = useLoaderData<typeof loader>();
  const [searchParams] = useSearchParams();
  const table = useTable({ features, columns, data: accounts });
  return (
    <section>
      <h1>Accounts</h1>
      <Form method="get" className="filters" role="search">
        <label>
          Search{" "}
          <input
            name="q"
            type="search"
            defaultValue={searchParams.get("q") ?? ""}
            placeholder="name, slug, email or id"
          />
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
        <label>
          <input name="overLimit" type="checkbox" value="1" defaultChecked={searchParams.get("overLimit") === "1"} />{" "}
          Over seat limit
        </label>
        <button type="submit" className="secondary">
          Search
        </button>
        {searchParams.size ? <Link to="/admin/accounts">Clear</Link> : null}
      </Form>
      {accounts.length ? (
        <DataTable
          table={table}
          caption="Accounts"
          testId="accounts-table"
          className="accounts-table"
          rowAttributes={(account) => ({
            "data-account": account.slug,
            "data-over-limit": String(isOverLimit(account)),
          })}
        />
      ) : (
        <p>No accounts match.</p>
      )}
      <KeysetPager newer={hasNewer ? accounts[0]?.id : null} older={hasOlder ? accounts.at(-1)?.id : null} />
    </section>
  );
}
