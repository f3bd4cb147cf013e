// The loader and action of /admin/tiers/:key (route.tsx). The loader reads the tier, its live status
// in Stripe and its prices there (a fixed few Stripe calls, cached), and, when asked (`?reprice=` a
// lookup key), a change-price form's defaults. The action saves or deletes the tier, or changes a
// lookup key's price: `reprice-preview` answers before → after, `reprice-confirm` makes the price.
import { randomUUID } from "node:crypto";
import { parseWithZod } from "@conform-to/zod/v4";
import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { json, redirect } from "@remix-run/node";
import { REPRICE_FIELD_MAX, RepriceFormSchema } from "~/forms/reprice-form.ts";
import { listAuditEntries } from "~/models/audit.server.ts";
import { listPermissions } from "~/models/permission.server.ts";
import { listTiersForAdmin } from "~/models/tier.server.ts";
import { toUnitAmount } from "~/rules/prices.ts";
import { FREE_TIER_KEY } from "~/rules/tiers.ts";
import {
  previewPriceMove,
  previewReprice,
  repriceLookupKey,
  tierPricesView,
} from "~/services/tiers/price-changes.server.ts";
import { recentPriceMoves, startPriceMove } from "~/services/tiers/price-moves.server.ts";
import { removeTier } from "~/services/tiers/tier-admin.server.ts";
import { checkTiersAgainstStripe } from "~/services/tiers/tier-status.server.ts";
import { describeAsOf } from "~/utils/age.ts";
import { boundedReply } from "~/utils/forms.ts";
import { jsonResponse } from "~/utils/http.server.ts";
import { auditEntryView } from "~/web/audit-view.server.ts";
import { requireRole, STAFF_ROLES } from "~/web/auth.server.ts";
import { readTierForm, saveTierFromForm } from "~/web/tier-actions.server.ts";

const HISTORY_SIZE = 20;

export async function loader({ request, params }: LoaderFunctionArgs) {
  const user = await requireRole(request, STAFF_ROLES);
  const key = params.key ?? "";
  // Every tier, in one query: the check needs the others to see a product two tiers share.
  const tiers = (await listTiersForAdmin()).map((row) => ({ ...row, lookupKeys: row.prices.map((p) => p.lookupKey) }));
  const tier = tiers.find((row) => row.key === key);
  if (!tier) throw jsonResponse({ error: `There is no tier with key "${key}".` }, 404);
  const { lookupKeys } = tier;
  const moveKey = new URL(request.url).searchParams.get("move");
  const [permissions, check, history, prices, moves, movePreview] = await Promise.all([
    listPermissions(),
    checkTiersAgainstStripe(tiers),
    listAuditEntries({ entity: "tier", entityId: String(tier.id), take: HISTORY_SIZE }),
    tier.billingProvider === "stripe" ? tierPricesView(lookupKeys) : null,
    recentPriceMoves(tier.key),
    moveKey && lookupKeys.includes(moveKey) ? previewPriceMove(tier.key, moveKey).catch(previewFailed) : null,
  ]);
  const status = check.byTier.get(tier.key);
  const canEdit = user.role === "admin";
  const repriceKey = new URL(request.url).searchParams.get("reprice");
  return json({
    canEdit,
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
    prices,
    movePreview,
    moves: moves.map((move) => ({
      id: move.id,
      lookupKey: move.lookupKey,
      status: move.status,
      total: move.total,
      moved: move.moved,
      createdAt: move.createdAt.toISOString(),
    })),
    // A fresh nonce per page view: the confirmation carries it, so a double click makes one price.
    reprice:
      canEdit && repriceKey && lookupKeys.includes(repriceKey) ? { lookupKey: repriceKey, nonce: randomUUID() } : null,
    permissions,
    history: history.slice(0, HISTORY_SIZE).map(auditEntryView),
    moreHistory: history.length > HISTORY_SIZE,
    tierId: tier.id,
  });
}

function previewFailed(error: unknown) {
  return {
    ok: false,
    message: `Stripe could not be asked: ${error instanceof Error ? error.message : String(error)}`,
  } as const;
}

async function moveAction(formData: FormData, user: { id: number; email: string }, key: string) {
  const lookupKey = String(formData.get("lookupKey") ?? "");
  let outcome: Awaited<ReturnType<typeof startPriceMove>>;
  try {
    outcome = await startPriceMove({ id: user.id, email: user.email }, key, lookupKey);
  } catch (error) {
    return json(
      { moveError: `Stripe could not be asked: ${error instanceof Error ? error.message : String(error)}` },
      502,
    );
  }
  if (!outcome.ok) return json({ moveError: outcome.message }, 409);
  return redirect(`/admin/tiers/${encodeURIComponent(key)}/price-moves/${outcome.move.id}`);
}

async function repriceAction(formData: FormData, user: { id: number; email: string }, key: string) {
  const confirm = formData.get("intent") === "reprice-confirm";
  const submission = parseWithZod(formData, { schema: RepriceFormSchema });
  if (submission.status !== "success") {
    return json({ repriceResult: boundedReply(submission.reply(), REPRICE_FIELD_MAX), reprice: null }, { status: 400 });
  }
  const values = submission.value;
  const unitAmount = toUnitAmount(values.amount, values.currency);
  if (unitAmount === null) {
    const reply = submission.reply({
      fieldErrors: { amount: [`Enter an amount ${values.currency.toUpperCase()} has.`] },
    });
    return json({ repriceResult: boundedReply(reply, REPRICE_FIELD_MAX), reprice: null }, { status: 400 });
  }
  const input = { ...values, unitAmount };
  if (!confirm) {
    const preview = await previewReprice(key, input);
    if (!preview.ok)
      return json({ repriceResult: submission.reply({ formErrors: [preview.message] }), reprice: null }, 409);
    if (preview.unchanged) {
      const reply = submission.reply({ fieldErrors: { amount: ["That is the price already."] } });
      return json({ repriceResult: reply, reprice: null }, { status: 400 });
    }
    return json({ repriceResult: submission.reply(), reprice: { preview, values } });
  }
  let outcome: Awaited<ReturnType<typeof repriceLookupKey>>;
  try {
    outcome = await repriceLookupKey({ id: user.id, email: user.email }, key, input, values.nonce);
  } catch (error) {
    const message = `Stripe did not make the price: ${error instanceof Error ? error.message : String(error)}`;
    return json({ repriceResult: submission.reply({ formErrors: [message] }), reprice: null }, 502);
  }
  if (!outcome.ok)
    return json({ repriceResult: submission.reply({ formErrors: [outcome.message] }), reprice: null }, 409);
  return redirect(`/admin/tiers/${encodeURIComponent(key)}?repriced=${encodeURIComponent(values.lookupKey)}`);
}

export async function action({ request, params }: ActionFunctionArgs) {
  // Support may read this page but never change it: every POST is checked here, not only hidden.
  const user = await requireRole(request, ["admin"]);
  const key = params.key ?? "";
  const formData = await readTierForm(request);
  const intent = formData.get("intent");
  if (intent === "reprice-preview" || intent === "reprice-confirm") return repriceAction(formData, user, key);
  if (intent === "move-start") return moveAction(formData, user, key);
  if (intent === "delete") {
    if (formData.get("confirm") !== "yes") return redirect(`/admin/tiers/${encodeURIComponent(key)}?delete=confirm`);
    const outcome = await removeTier({ id: user.id, email: user.email }, key);
    if (outcome.ok) return redirect(`/admin/tiers?deleted=${encodeURIComponent(key)}`);
    const status = outcome.reason === "not-found" ? 404 : 409;
    return json({ result: null, deleteError: outcome.message, users: outcome.users ?? null }, { status });
  }
  return saveTierFromForm(formData, user, key);
}
