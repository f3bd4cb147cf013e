import { hash, verify } from "@node-rs/argon2";
import { Prisma, type Role } from "~/generated/prisma/client.ts";
import { prisma } from "~/utils/db.server.ts";
import type { Db } from "./transaction.server.ts";

export type { Role, User } from "~/generated/prisma/client.ts";

/** Emails are compared case-insensitively: they are always stored lower-cased. */
export function normalizeEmail(email: string) {
  return email.trim().toLowerCase();
}

// argon2id is @node-rs/argon2's default algorithm.
export function hashPassword(password: string) {
  return hash(password);
}

export async function createUser({ email, password, role = "customer" }: { email: string; password: string; role?: Role }) {
  return prisma.user.create({
    data: { email: normalizeEmail(email), passwordHash: await hashPassword(password), role },
  });
}

export function getUserByEmail(email: string) {
  return prisma.user.findUnique({ where: { email: normalizeEmail(email) } });
}

export function getUserById(id: number) {
  return prisma.user.findUnique({ where: { id } });
}

// Verifying against a real hash even for unknown emails keeps the response time the same,
// so timing does not reveal which emails have accounts.
let dummyHash: Promise<string> | undefined;

export async function verifyLogin(email: string, password: string) {
  const user = await getUserByEmail(email);
  const passwordHash = user?.passwordHash ?? (await (dummyHash ??= hashPassword("not-a-real-password")));
  const ok = await verify(passwordHash, password).catch(() => false);
  return ok && user ? user : null;
}

/** A write lost a race for a unique value (e.g. two sign-ups with one email). */
export function isUniqueViolation(error: unknown) {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002";
}

/** The billing fields of a user, as the webhook path reads and writes them. */
export type BillingUser = {
  id: number;
  tierId: number | null;
  stripeCustomerId: string | null;
  stripeSubscriptionId: string | null;
  subscriptionStatus: string | null;
  subscriptionSyncedAt: Date | null;
};

/**
 * The user, locked until the caller's transaction ends, so concurrent events for one user are
 * applied one after the other and each sees the state the previous one left.
 */
export async function lockBillingUser(tx: Db, by: { id: number } | { stripeCustomerId: string }): Promise<BillingUser | null> {
  const rows =
    "id" in by
      ? await tx.$queryRaw<BillingUser[]>`
          SELECT id, tier_id AS "tierId", stripe_customer_id AS "stripeCustomerId",
                 stripe_subscription_id AS "stripeSubscriptionId", subscription_status AS "subscriptionStatus",
                 subscription_synced_at AS "subscriptionSyncedAt"
            FROM users WHERE id = ${by.id} FOR UPDATE`
      : await tx.$queryRaw<BillingUser[]>`
          SELECT id, tier_id AS "tierId", stripe_customer_id AS "stripeCustomerId",
                 stripe_subscription_id AS "stripeSubscriptionId", subscription_status AS "subscriptionStatus",
                 subscription_synced_at AS "subscriptionSyncedAt"
            FROM users WHERE stripe_customer_id = ${by.stripeCustomerId} FOR UPDATE`;
  return rows[0] ?? null;
}

export type BillingUpdate = {
  tierId?: number | null;
  stripeCustomerId?: string | null;
  stripeSubscriptionId?: string | null;
  subscriptionStatus?: string | null;
  /** The `created` time of the Stripe state applied: older events are stale from now on. */
  subscriptionSyncedAt: Date;
};

export class StripeCustomerTakenError extends Error {
  name = "StripeCustomerTakenError";
}

/** Writes a user's billing state; StripeCustomerTakenError when another user has that customer. */
export async function updateBillingUser(tx: Db, userId: number, data: BillingUpdate) {
  try {
    await tx.user.update({ where: { id: userId }, data, select: { id: true } });
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new StripeCustomerTakenError(`Stripe customer ${String(data.stripeCustomerId)} is already linked to another Tierdesk user.`);
    }
    throw error;
  }
}

export function countUsers() {
  return prisma.user.count();
}
