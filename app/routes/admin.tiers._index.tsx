// /admin/tiers: every tier with its lookup keys checked live against Stripe. Sorting and filters are
// in the URL (?q=&provider=&integration=&sort=&dir=) and done on the server, so the table works
// without JavaScript and a link shows the same view.
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { json } from "@remix-run/node";
import { Form, Link, useLoaderData, useSearchParams } from "@remix-run/react";
import { type ColumnDef, rowSortingFeature, type SortingState, tableFeatures, useTable } from "@tanstack/react-table";
import { checkTiersAgainstStripe } from "~/services/tiers/tier-status.server.ts";
import { DataTable } from "~/components/data-table.tsx";
import { KeyStatusBadge, IntegrationSummary } from "~/components/tier-status.tsx";
import { WhopProductBadge } from "~/components/whop-status.tsx";
import { listTiersForAdmin } from "~/models/tier.server.ts";
import { describeAsOf } from "~/utils/age.ts";
import { requireRole, STAFF_ROLES } from "~/web/auth.server.ts";

export const meta: MetaFunction = () => [{ title: "Tiers · Admin · Tierdesk" }];

const SORTABLE = ["name", "key", "provider", "customers", "integration"] as const;
type SortColumn = (typeof SORTABLE)[number];
const PROVIDERS = ["stripe", "whop", "exempt"] as const;
const INTEGRATIONS = ["valid", "invalid", "unverified", "not-applicable"] as const;
const INTEGRATION_LABEL: Record<(typeof INTEGRATIONS)[number], string> = {
  valid: "valid",
  invalid: "not valid",
  unverified: "could not verify",
  "not-applicable": "exempt",
};

export async function loader({ request }: LoaderFunctionArgs) {
  const user = await requireRole(request, STAFF_ROLES);
  const params = new URL(request.url).searchParams;
  const q = params.get("q")?.trim().toLowerCase() ?? "";
  const provider = PROVIDERS.find((value) => value === params.get("provider")) ?? null;
  const integration = INTEGRATIONS.find((value) => value === params.get("integration")) ?? null;
  const sort: SortColumn = SORTABLE.find((value) => value === params.get("sort")) ?? "name";
  const dir = params.get("dir") === "desc" ? "desc" : "asc";

  const tiers = await listTiersForAdmin();
  const withKeys = tiers.map((tier) => ({ ...tier, lookupKeys: tier.prices.map((price) => price.lookupKey) }));
  const { byTier, stripe, whop } = await checkTiersAgainstStripe(withKeys);

  const rows = withKeys
    .map((tier) => {
      const status = byTier.get(tier.key);
      return {
        key: tier.key,
        name: tier.name,
        provider: tier.billingProvider,
        isBillingExempt: tier.isBillingExempt,
        customerFacing: tier.isCustomerFacing,
        customers: tier._count.accounts,
        keys: status?.keys ?? [],
        whopProduct: status?.whopProduct ?? null,
        health: status?.health ?? { state: "unverified" as const, reason: "not checked" },
      };
    })
    .filter((row) => !q || row.name.toLowerCase().includes(q) || row.key.includes(q))
    .filter((row) => !provider || row.provider === provider)
    .filter((row) => !integration || row.health.state === integration);
  const value = (row: (typeof rows)[number]): string | number =>
    sort === "customers"
      ? row.customers
      : sort === "integration"
        ? row.health.state
        : sort === "provider"
          ? row.provider
          : row[sort];
  rows.sort((a, b) => {
    const [x, y] = [value(a), value(b)];
    const order = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
    return dir === "asc" ? order : -order;
  });
  const lastKnown = stripe.asOf ? describeAsOf(stripe.asOf) : null;
  return json({ rows, stripe, lastKnown, whop, total: tiers.length, canEdit: user.role === "admin", sort, dir });
}

type Row = ReturnType<typeof useLoaderData<typeof loader>>["rows"][number];

const features = tableFeatures({ rowSortingFeature });

const columns: Array<ColumnDef<typeof features, Row>> = [
  {
    id: "name",
    accessorKey: "name",
    header: "Name",
    cell: ({ row }) => <Link to={`/admin/tiers/${row.original.key}`}>{row.original.name}</Link>,
  },
  { id: "key", accessorKey: "key", header: "Key", cell: ({ row }) => <code>{row.original.key}</code> },
  {
    id: "provider",
    accessorKey: "provider",
    header: "Provider",
    cell: ({ row }) => `${row.original.provider}${row.original.isBillingExempt ? " (billing exempt)" : ""}`,
  },
  {
    id: "lookupKeys",
    header: "Lookup keys (live in Stripe)",
    enableSorting: false,
    cell: ({ row }) =>
      row.original.whopProduct ? (
        <WhopProductBadge status={row.original.whopProduct} />
      ) : row.original.keys.length ? (
        <ul className="key-list">
          {row.original.keys.map((status) => (
            <li key={status.lookupKey}>
              <KeyStatusBadge status={status} />
            </li>
          ))}
        </ul>
      ) : (
        <span className="hint">none</span>
      ),
  },
  {
    id: "customers",
    accessorKey: "customers",
    header: "Customers",
    cell: ({ row }) => (
      <Link to={`/admin/accounts?tier=${encodeURIComponent(row.original.key)}`}>{row.original.customers}</Link>
    ),
  },
  {
    id: "customerFacing",
    accessorKey: "customerFacing",
    header: "Customer-facing",
    enableSorting: false,
    cell: ({ row }) => (row.original.customerFacing ? "yes" : "no"),
  },
  {
    id: "integration",
    header: "Integration",
    cell: ({ row }) => <IntegrationSummary health={row.original.health} />,
  },
];

function SortLink({ column, label }: { column: string; label: string }) {
  const [searchParams] = useSearchParams();
  const current = searchParams.get("sort") ?? "name";
  const dir = searchParams.get("dir") === "desc" ? "desc" : "asc";
  const next = new URLSearchParams(searchParams);
  next.set("sort", column);
  next.set("dir", current === column && dir === "asc" ? "desc" : "asc");
  const arrow = current === column ? (dir === "asc" ? " ▲" : " ▼") : "";
  return (
    <Link to={`?${next}`} aria-label={`Sort by ${label}`} preventScrollReset>
      {label}
      {arrow}
    </Link>
  );
}

export default function AdminTiers() {
  const { rows, stripe, lastKnown, whop, total, canEdit, sort, dir } = useLoaderData<typeof loader>();
  const [searchParams] = useSearchParams();
  const sorting: SortingState = [{ id: sort, desc: dir === "desc" }];
  const table = useTable({ features, columns, data: rows, manualSorting: true, state: { sorting } });
  const filtered = rows.length !== total;
  return (
    <section>
      <div className="page-head">
        <h1>Tiers</h1>
        {canEdit ? (
          <Link className="button" to="/admin/tiers/new">
            New tier
          </Link>
        ) : null}
      </div>
      <p className="hint">
        Each lookup key is checked against Stripe as this page loads (cached for 5 minutes, dropped when Stripe reports
        a price or product change). A Stripe tier is valid only when every key is found and active. A Whop tier's
        product is checked against Whop the same way (cached for 2 minutes): valid when it exists, is not archived and
        has a plan for sale.
      </p>
      {stripe.unverified ? (
        <p className="form-error" role="alert" data-testid="stripe-unverified">
          Could not verify the lookup keys with Stripe: {stripe.unverified}. Statuses are not cached; reload to try
          again.
          {lastKnown ? (
            <span data-testid="stripe-last-known"> Prices shown are Stripe&apos;s last answer, {lastKnown}.</span>
          ) : null}
        </p>
      ) : null}
      {whop.unverified ? (
        <p className="form-error" role="alert" data-testid="whop-unverified">
          Could not verify the Whop products: {whop.unverified}. Statuses are not cached; reload to try again.
        </p>
      ) : null}
      <Form method="get" className="filters" role="search">
        <label>
          Search <input name="q" defaultValue={searchParams.get("q") ?? ""} placeholder="name or key" />
        </label>
        <label>
          Provider{" "}
          <select name="provider" defaultValue={searchParams.get("provider") ?? ""}>
            <option value="">all</option>
            {PROVIDERS.map((provider) => (
              <option key={provider} value={provider}>
                {provider}
              </option>
            ))}
          </select>
        </label>
        <label>
          Integration{" "}
          <select name="integration" defaultValue={searchParams.get("integration") ?? ""}>
            <option value="">all</option>
            {INTEGRATIONS.map((state) => (
              <option key={state} value={state}>
                {INTEGRATION_LABEL[state]}
              </option>
            ))}
          </select>
        </label>
        <input type="hidden" name="sort" value={sort} />
        <input type="hidden" name="dir" value={dir} />
        <button type="submit" className="secondary">
          Filter
        </button>
        {filtered ? <Link to="/admin/tiers">Clear</Link> : null}
      </Form>
      <DataTable
        table={table}
        caption="Subscription tiers"
        testId="tiers-table"
        rowAttributes={(tier) => ({ "data-tier": tier.key })}
        header={({ id, label, sortable }) => (sortable ? <SortLink column={id} label={label} /> : label)}
      />
      {!rows.length ? <p>No tiers match.</p> : null}
      <StripeSidePanel unlinked={stripe.unlinked} complete={stripe.catalogComplete} unverified={stripe.unverified} />
    </section>
  );
}

function StripeSidePanel({
  unlinked,
  complete,
  unverified,
}: {
  unlinked: Row["keys"];
  complete: boolean;
  unverified: string | null;
}) {
  return (
    <section className="panel" aria-labelledby="stripe-side">
      <h2 id="stripe-side">Stripe's side at a glance</h2>
      {unverified ? (
        <p className="hint">Not available: Stripe could not be asked.</p>
      ) : unlinked.length ? (
        <>
          <p className="hint">
            Active Stripe prices with a lookup key that no tier owns: add a key to a tier to sell it.
          </p>
          <ul className="key-list" data-testid="unlinked-prices">
            {unlinked.map((status) => (
              <li key={status.lookupKey}>
                <KeyStatusBadge status={status} />
              </li>
            ))}
          </ul>
        </>
      ) : (
        <p className="hint" data-testid="unlinked-prices">
          Every active Stripe price with a lookup key belongs to a tier.
        </p>
      )}
      {!complete ? (
        <p className="hint">
          The account has more active prices than one listing reads; only the first 1,000 are shown.
        </p>
      ) : null}
    </section>
  );
}
