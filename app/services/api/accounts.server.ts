// /api/v1's writes (write scope): the product provisions accounts by its own id, adds and removes
// members (seat-checked exactly as invitations are: app/services/customers/members.server.ts), and
// starts Checkout or the Customer Portal for an account. Each answers with a typed outcome; the routes
// turn them into HTTP (app/web/problem.server.ts's codes).
import { createHash, randomBytes } from "node:crypto";
import {
  addMembership,
  findAccountIdByExternalId,
  findAccountWithFirstOwner,
  insertExternalAccount,
  lockAccountByExternalId,
  renameAccount,
} from "~/models/account.server.ts";
import { getBillingAccount } from "~/models/billing-account.server.ts";
import { refreshSeatLimitMark } from "~/models/seats.server.ts";
import { inTransaction } from "~/models/transaction.server.ts";
import { findOrCreateUserIn, getUserByEmail, hashPassword } from "~/models/user.server.ts";
import { writeWebhookMessagesAtCommit } from "~/models/webhook-outbox.server.ts";
import { accountSeats, type Seats } from "~/services/customers/accounts.server.ts";
import {
  addExistingUser,
  type InviteRefusal,
  inviteMember,
  joinUnderSeatRule,
  removeByEmail,
} from "~/services/customers/members.server.ts";
import {
  type CheckoutReturns,
  createCheckoutSessionReturningTo,
  createPortalSession,
} from "~/services/stripe/checkout.server.ts";
import { kickWebhookDelivery } from "~/services/webhooks/outbox.server.ts";
import { mailLinkOrigin } from "~/services/mail/mail.server.ts";
import { externalAccountSlug } from "~/utils/account-names.ts";
import { config } from "~/utils/config.server.ts";
import { forgetCachedAccount } from "./cache.server.ts";
import { accountEntitlements } from "./entitlements.server.ts";
import type { AccountRef, EntitlementsResponse, MemberResponse } from "./schemas.ts";

/** The account id a ref names, read from the database (writes never trust a cached answer). */
async function accountIdOf(ref: AccountRef): Promise<number | null> {
  return "id" in ref ? ref.id : findAccountIdByExternalId(ref.externalId);
}

export type UpsertOutcome =
  | { ok: true; created: boolean; entitlements: EntitlementsResponse }
  | { ok: false; refusal: "no-seat"; message: string };

/** Leaves the upsert's transaction with its refusal: the owner's user, the name, nothing is kept. */
class UpsertRefused extends Error {
  constructor(readonly outcome: Extract<UpsertOutcome, { ok: false }>) {
    super(outcome.message);
  }
}

/**
 * PUT /api/v1/accounts/ext:{externalId}: the account the product knows by `externalId`, made (with
 * `ownerEmail` as its owner) or brought up to date (its name; the owner made one of its owners, taking a
 * seat when they were not a member). One transaction: a refusal (no seat for a new owner) writes nothing.
 * The owner is a Tierdesk user with that email, made when there is none with a random password nobody
 * knows (they set their own through "Forgot password?"). The same request twice changes nothing the
 * second time; two at once make one account (the unique external id decides, the other updates it).
 */
export async function upsertExternalAccount(
  externalId: string,
  { name, ownerEmail }: { name: string; ownerEmail: string },
): Promise<UpsertOutcome> {
  const slug = externalAccountSlug(name, createHash("sha256").update(externalId).digest("hex"));
  const unknownPassword = () => hashPassword(randomBytes(32).toString("base64url"));
  let result: { accountId: number; created: boolean };
  try {
    result = await inTransaction(async (tx) => {
      const existing = await lockAccountByExternalId(tx, externalId);
      const newId = existing ? null : await insertExternalAccount(tx, { externalId, name, slug });
      const owner = await findOrCreateUserIn(tx, ownerEmail, unknownPassword, kickWebhookDelivery);
      if (newId !== null) {
        await addMembership(tx, newId, owner.id, "owner");
        await refreshSeatLimitMark(tx, [newId]);
        await writeWebhookMessagesAtCommit(tx, [newId], "account.created", kickWebhookDelivery);
        return { accountId: newId, created: true };
      }
      // Made by a concurrent request a moment ago (its insert did nothing): that one is updated.
      const account = existing ?? (await lockAccountByExternalId(tx, externalId));
      if (!account) throw new Error(`account ext:${externalId} vanished during its upsert`);
      const joined = await joinUnderSeatRule(tx, { id: account.id, name }, owner, "owner");
      if (!joined.ok) {
        throw new UpsertRefused({
          ok: false,
          refusal: "no-seat",
          message: `${ownerEmail} cannot be made an owner: ${joined.message}`,
        });
      }
      if (account.name !== name) await renameAccount(tx, account.id, name);
      return { accountId: account.id, created: false };
    });
  } catch (error) {
    if (error instanceof UpsertRefused) return error.outcome;
    throw error;
  }
  forgetCachedAccount(result.accountId);
  const entitlements = await accountEntitlements({ id: result.accountId });
  if (!entitlements) throw new Error(`account ${result.accountId} vanished after its upsert`);
  return { ok: true, created: result.created, entitlements };
}

export type MemberOutcome =
  | { ok: true; status: 200 | 201 | 202; body: MemberResponse }
  | { ok: false; status: 404 | 409; code: "not_found" | "seat_limit_reached"; message: string };

const REFUSAL_STATUS: Record<InviteRefusal, { status: 404 | 409; code: "not_found" | "seat_limit_reached" }> = {
  "no-account": { status: 404, code: "not_found" },
  "over-limit": { status: 409, code: "seat_limit_reached" },
  "no-seat": { status: 409, code: "seat_limit_reached" },
  // Answered as successes before they get here (the request is idempotent).
  "already-member": { status: 409, code: "seat_limit_reached" },
  "already-invited": { status: 409, code: "seat_limit_reached" },
  "not-pending": { status: 404, code: "not_found" },
};

function memberBody(email: string, member: MemberResponse["member"]["role"], seats: Seats, link?: string) {
  const status = member ? ("active" as const) : ("invited" as const);
  return { member: { email, role: member, status, ...(link ? { invitationUrl: link } : {}) }, seats };
}

/**
 * POST /api/v1/accounts/{ref}/members: someone with a Tierdesk user joins at once (201); anyone else is
 * invited by mail (202), as an owner would invite them. Already a member or invited: 200, nothing new.
 */
export async function addMemberByApi(ref: AccountRef, email: string, request: Request): Promise<MemberOutcome> {
  const accountId = await accountIdOf(ref);
  const account = accountId === null ? null : await findAccountWithFirstOwner(accountId);
  if (!account) return { ok: false, status: 404, code: "not_found", message: "No such account." };
  const user = await getUserByEmail(email);
  if (user) {
    const added = await addExistingUser(account, user);
    if (!added.ok) return { ok: false, ...REFUSAL_STATUS[added.refusal], message: added.message };
    forgetCachedAccount(account.id);
    const seats = await accountSeats(account.id);
    return { ok: true, status: added.joined ? 201 : 200, body: memberBody(email, added.role, seats) };
  }
  if (!account.owner)
    return { ok: false, status: 409, code: "seat_limit_reached", message: "The account has no owner." };
  const invited = await inviteMember(account, account.owner, email, {
    // Links in mail: APP_URL (in production nothing else: a Host header is the caller's to choose).
    mail: mailLinkOrigin(request),
    page: config().appUrl ?? new URL(request.url).origin,
  });
  if (!invited.ok && invited.refusal !== "already-invited") {
    return { ok: false, ...REFUSAL_STATUS[invited.refusal], message: invited.message };
  }
  forgetCachedAccount(account.id);
  const seats = await accountSeats(account.id);
  // The link is only given back when Tierdesk could not mail it (production without SMTP): the product sends it.
  const link = invited.ok && invited.delivery === "show-link" ? invited.link : undefined;
  return { ok: true, status: invited.ok ? 202 : 200, body: memberBody(email, null, seats, link) };
}

export type RemoveOutcome =
  | { ok: true; removed: "member" | "invitation"; seats: Seats }
  | { ok: false; status: 404 | 409; code: "not_found" | "last_owner"; message: string };

/** DELETE /api/v1/accounts/{ref}/members/{email}: their membership, or else their pending invitation. */
export async function removeMemberByApi(ref: AccountRef, email: string): Promise<RemoveOutcome> {
  const accountId = await accountIdOf(ref);
  if (accountId === null) return { ok: false, status: 404, code: "not_found", message: "No such account." };
  const outcome = await removeByEmail(accountId, email);
  if (!outcome.ok) {
    return {
      ok: false,
      status: outcome.status,
      code: outcome.status === 409 ? "last_owner" : "not_found",
      message: outcome.message,
    };
  }
  forgetCachedAccount(accountId);
  return { ok: true, removed: outcome.removed, seats: await accountSeats(accountId) };
}

/** The account as billing acts for it, with its first owner's email (a new Stripe customer's). */
async function billingActorOf(ref: AccountRef) {
  const accountId = await accountIdOf(ref);
  if (accountId === null) return null;
  const [account, named] = await Promise.all([getBillingAccount(accountId), findAccountWithFirstOwner(accountId)]);
  if (!account || !named?.owner) return null;
  return { account, email: named.owner.email };
}

const SESSION_PLACEHOLDER = "{CHECKOUT_SESSION_ID}";

/**
 * A return URL as Stripe takes it: the WHATWG serialization (a lower-case scheme, `http:/\\host` read
 * as browsers read it), with Checkout's `{CHECKOUT_SESSION_ID}` placeholder left as Stripe expects it.
 */
function normalizedReturnUrl(url: string) {
  return new URL(url).href.replaceAll(encodeURIComponent(SESSION_PLACEHOLDER), SESSION_PLACEHOLDER);
}

/** POST /api/v1/accounts/{ref}/checkout: a hosted Checkout URL for the account; null: no such account. */
export async function checkoutByApi(ref: AccountRef, lookupKey: string, returns: CheckoutReturns) {
  const actor = await billingActorOf(ref);
  if (!actor) return null;
  return createCheckoutSessionReturningTo(actor, lookupKey, {
    successUrl: normalizedReturnUrl(returns.successUrl),
    cancelUrl: normalizedReturnUrl(returns.cancelUrl),
  });
}

/** POST /api/v1/accounts/{ref}/portal: the account's Customer Portal URL; null: no such account. */
export async function portalByApi(ref: AccountRef, returnUrl: string) {
  const actor = await billingActorOf(ref);
  if (!actor) return null;
  return createPortalSession(actor, "", normalizedReturnUrl(returnUrl));
}
