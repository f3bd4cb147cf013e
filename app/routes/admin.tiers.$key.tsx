// /admin/tiers/:key: one tier — its form (admins) or its settings (support), its lookup keys live
// in Stripe, its own audit history, and deletion (refused while accounts are on it).
import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { json, redirect } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useSearchParams } from "@remix-run/react";
import { removeTier } from "~/services/tiers/tier-admin.server.ts";
import { checkTiersAgainstStripe } from "~/services/tiers/tier-status.server.ts";
import { AuditTrail } from "~/components/audit-trail.tsx";
import { TierForm } from "~/components/tier-form.tsx";
import { IntegrationSummary, KeyStatusBadge } from "~/components/tier-status.tsx";
import { WhopProductBadge } from "~/components/whop-status.tsx";
import { listAuditEntries } from "~/models/audit.server.ts";
import { listPermissions } from "~/models/permission.server.ts";
import { listTiersForAdmin } from "~/models/tier.server.ts";
import { requireRole, STAFF_ROLES } from "~/web/auth.server.ts";
import { jsonResponse } from "~/utils/http.server.ts";
import { readTierForm, saveTierFromForm } from "~/web/tier-actions.server.ts";
import { FREE_TIER_KEY } from "~/rules/tiers.ts";
import { describeAsOf } from "~/utils/age.ts";
import { auditEntryView } from "~/web/audit-view.server.ts";

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: `${data?.tier.name ?? "Tier"} · Admin · Tierdesk` },
];

const HISTORY_SIZE = 20;

export async function loader({ request, params }: LoaderFunctionArgs) {
  const user = await requireRole(request, STAFF_ROLES);
  const key = params.key ?? "";
  // Every tier, in one query: the check needs the others to see a product two tiers share.
  const tiers = (await listTiersForAdmin()).map((row) => ({ ...row, lookupKeys: row.prices.map((p) => p.lookupKey) }));
  const tier = tiers.find((row) => row.key === key);
  if (!tier) throw jsonResponse({ error: `There is no tier with key "${key}".` }, 404);
  const { lookupKeys } = tier;
  const [permissions, check, history] = await Promise.all([
    listPermissions(),
    checkTiersAgainstStripe(tiers),
    listAuditEntries({ entity: "tier", entityId: String(tier.id), take: HISTORY_SIZE }),
  ]);
  const status = check.byTier.get(tier.key);
  return json({
    canEdit: user.role === "admin",
    isFree: tier.key === FREE_TIER_KEY,
    users: tier._count.accounts,
    tier: {
      name: tier.name,
      key: tier.key,
      description: tier.description ?? "",
      userLimit: String(tier.userLimit),
      isCustomerFacing: tier.isCustomerFacing,
      billingProvider: tier.billingProvider,
      isBillingExempt: tier.isBillingExempt,
      whopProductKey: tier.whopProductKey ?? "",
      fallbackPrice: tier.fallbackPrice,
      lookupKeys: lookupKeys.join("\n"),
      permissions: tier.permissions.map(({ permission }) => permission.name),
    },
    keys: status?.keys ?? [],
    whopProduct: status?.whopProduct ?? null,
    health: status?.health ?? null,
    unverified: check.stripe.unverified,
    lastKnown: check.stripe.asOf ? describeAsOf(check.stripe.asOf) : null,
    permissions,
    history: history.slice(0, HISTORY_SIZE).map(auditEntryView),
    moreHistory: history.length > HISTORY_SIZE,
    tierId: tier.id,
  });
}

export async function action({ request, params }: ActionFunctionArgs) {
  // Support may read this page but never change it: every POST is checked here, not only hidden.
  const user = await requireRole(request, ["admin"]);
  const key = params.key ?? "";
  const formData = await readTierForm(request);
  const intent = formData.get("intent");
  if (intent === "delete") {
    if (formData.get("confirm") !== "yes") return redirect(`/admin/tiers/${encodeURIComponent(key)}?delete=confirm`);
    const outcome = await removeTier({ id: user.id, email: user.email }, key);
    if (outcome.ok) return redirect(`/admin/tiers?deleted=${encodeURIComponent(key)}`);
    const status = outcome.reason === "not-found" ? 404 : 409;
    return json({ result: null, deleteError: outcome.message, users: outcome.users ?? null }, { status });
  }
  return saveTierFromForm(formData, user, key);
}

export default function AdminTier() {
  const data = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>();
  const [searchParams] = useSearchParams();
  const saved = searchParams.get("saved");
  const notInStripe = data.keys.filter((status) => status.state !== "found" && status.state !== "unverified");
  const confirmDelete = searchParams.get("delete") === "confirm";
  return (
    <section>
      <p>
        <Link to="/admin/tiers">← All tiers</Link>
      </p>
      <h1>{data.tier.name}</h1>
      {saved === "1" || saved === "0" ? (
        <p className="notice" role="status">
          {saved === "1" ? "Saved." : "Saved: nothing had changed."}
        </p>
      ) : null}
      {saved && notInStripe.length ? (
        <p className="warning" role="alert" data-testid="lookup-key-warning">
          Saved, but Stripe does not sell {notInStripe.length === 1 ? "this lookup key" : "these lookup keys"} yet:{" "}
          {notInStripe.map((status) => status.lookupKey).join(", ")}. Customers cannot subscribe to this tier until the
          price exists and is active in Stripe.
        </p>
      ) : null}

      <section className="panel" aria-labelledby="live-status">
        <h2 id="live-status">{data.tier.billingProvider === "whop" ? "In Whop now" : "In Stripe now"}</h2>
        {data.unverified ? (
          <p className="form-error" role="alert">
            Could not verify with Stripe: {data.unverified}.
            {data.lastKnown ? (
              <span data-testid="stripe-last-known">
                {" "}
                Prices shown are Stripe&apos;s last answer, {data.lastKnown}.
              </span>
            ) : null}
          </p>
        ) : null}
        <dl className="facts">
          <dt>Integration</dt>
          <dd data-testid="tier-integration">{data.health ? <IntegrationSummary health={data.health} /> : "—"}</dd>
          <dt>Customers on this tier</dt>
          <dd>
            <Link to={`/admin/accounts?tier=${encodeURIComponent(data.tier.key)}`}>{data.users}</Link>
          </dd>
        </dl>
        {data.whopProduct ? (
          <p data-testid="tier-whop-product">
            Whop product: <WhopProductBadge status={data.whopProduct} />
          </p>
        ) : null}
        {data.keys.length ? (
          <ul className="key-list" data-testid="tier-keys">
            {data.keys.map((status) => (
              <li key={status.lookupKey}>
                <KeyStatusBadge status={status} />
              </li>
            ))}
          </ul>
        ) : null}
      </section>

      <h2>{data.canEdit ? "Edit" : "Settings"}</h2>
      {data.canEdit ? null : <p className="hint">Support can read tiers; only admins change them.</p>}
      <TierForm
        defaults={{ ...data.tier }}
        lastResult={actionData?.result}
        permissions={data.permissions}
        submitLabel="Save tier"
        readOnly={!data.canEdit}
      />

      {data.canEdit ? (
        <DeleteTier
          tierKey={data.tier.key}
          isFree={data.isFree}
          users={data.users}
          confirm={confirmDelete}
          error={actionData && "deleteError" in actionData ? actionData.deleteError : null}
        />
      ) : null}

      <section className="panel" aria-labelledby="history">
        <h2 id="history">History</h2>
        <AuditTrail entries={data.history} />
        {data.moreHistory ? (
          <p>
            <Link to={`/admin/audit?entity=tier&entityId=${data.tierId}`}>Full history →</Link>
          </p>
        ) : null}
      </section>
    </section>
  );
}

function DeleteTier({
  tierKey,
  isFree,
  users,
  confirm,
  error,
}: {
  tierKey: string;
  isFree: boolean;
  users: number;
  confirm: boolean;
  error: string | null;
}) {
  return (
    <section className="panel danger-zone" aria-labelledby="delete-tier">
      <h2 id="delete-tier">Delete this tier</h2>
      {error ? (
        <p className="form-error" role="alert">
          {error}
        </p>
      ) : null}
      {isFree ? (
        <p className="hint">The free tier cannot be deleted: accounts whose subscription lapses fall back to it.</p>
      ) : users > 0 ? (
        <p>
          {users} account{users === 1 ? " is" : "s are"} on this tier, so it cannot be deleted.{" "}
          <Link to={`/admin/accounts?tier=${encodeURIComponent(tierKey)}`}>See who</Link>.
        </p>
      ) : confirm ? (
        <Form method="post" className="confirm">
          <p role="alert">
            Delete tier <strong>{tierKey}</strong> for good? Its lookup keys and permission grants go with it. This is
            recorded in the audit log.
          </p>
          <input type="hidden" name="intent" value="delete" />
          <input type="hidden" name="confirm" value="yes" />
          <div className="actions">
            <button type="submit" className="danger">
              Yes, delete {tierKey}
            </button>
            <Link className="button secondary" to={`/admin/tiers/${encodeURIComponent(tierKey)}`}>
              Keep it
            </Link>
          </div>
        </Form>
      ) : (
        <Form method="post">
          <input type="hidden" name="intent" value="delete" />
          <button type="submit" className="danger">
            Delete tier…
          </button>
        </Form>
      )}
    </section>
  );
}
