// Accounts (an organization, team or workspace) and who belongs to them. Every user owns a personal
// account from sign-up; a session acts for one of the user's accounts at a time (the header's switcher).
import type { MembershipRole } from "~/generated/prisma/enums.ts";
import { prisma } from "~/db/db.server.ts";
import { notifyApiCacheChanged } from "./catalog-changes.server.ts";
import { personalAccountName, personalSlug } from "~/utils/account-names.ts";
import type { Db } from "./transaction.server.ts";

/** The personal account a new user owns, named after their email's local part. */
export function createPersonalAccount(db: Db, user: { id: number; email: string }) {
  return db.account.create({
    data: {
      name: personalAccountName(user.email),
      slug: personalSlug(user.email, user.id),
      memberships: { create: { userId: user.id, role: "owner" } },
    },
    select: { id: true, name: true, slug: true },
  });
}

export type SessionAccount = {
  id: number;
  name: string;
  slug: string;
  role: MembershipRole;
  /** Whether the session chose it (the switcher); else the current account is the first listed. */
  chosen: boolean;
};

/**
 * Every account of the session's user, owned ones first (then oldest first), with the one the session
 * chose marked. One query: the switcher's list and the current account at once.
 */
export function listSessionAccounts(sessionId: string): Promise<SessionAccount[]> {
  return prisma.$queryRaw<SessionAccount[]>`
    SELECT a.id, a.name, a.slug, m.role::text AS role, (s.current_account_id IS NOT DISTINCT FROM a.id) AS chosen
      FROM sessions s
      JOIN memberships m ON m.user_id = s.user_id
      JOIN accounts a ON a.id = m.account_id
     WHERE s.id = ${sessionId}
     ORDER BY (m.role = 'owner') DESC, a.id`;
}

/** Makes the session act for the account, if its user belongs to it; false otherwise. */
export async function chooseSessionAccount(sessionId: string, accountId: number): Promise<boolean> {
  const updated = await prisma.$executeRaw`
    UPDATE sessions s SET current_account_id = ${accountId}
     WHERE s.id = ${sessionId}
       AND EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = s.user_id AND m.account_id = ${accountId})`;
  return updated === 1;
}

/** The emails of the account's owners, oldest membership first. */
export async function listAccountOwnerEmails(accountId: number): Promise<string[]> {
  const owners = await prisma.membership.findMany({
    where: { accountId, role: "owner" },
    orderBy: [{ createdAt: "asc" }, { userId: "asc" }],
    select: { user: { select: { email: true } } },
  });
  return owners.map((owner) => owner.user.email);
}

/** A user's accounts for support: each with the user's role, its owners and how many belong. */
export async function listAccountsOfUser(userId: number) {
  const memberships = await prisma.membership.findMany({
    where: { userId },
    orderBy: { accountId: "asc" },
    select: {
      role: true,
      account: {
        select: {
          id: true,
          name: true,
          slug: true,
          createdAt: true,
          _count: { select: { memberships: true } },
          memberships: {
            where: { role: "owner" },
            orderBy: { userId: "asc" },
            select: { user: { select: { id: true, email: true } } },
          },
        },
      },
    },
  });
  return memberships.map(({ role, account }) => ({
    id: account.id,
    name: account.name,
    slug: account.slug,
    createdAt: account.createdAt,
    role,
    members: account._count.memberships,
    owners: account.memberships.map((membership) => membership.user),
  }));
}

/** The account's members with their email and role, owners first, then by when they joined. */
export async function listMembers(accountId: number) {
  const memberships = await prisma.membership.findMany({
    where: { accountId },
    orderBy: [{ role: "asc" }, { createdAt: "asc" }, { userId: "asc" }],
    select: { userId: true, role: true, createdAt: true, user: { select: { email: true } } },
  });
  return memberships.map(({ user, ...membership }) => ({ ...membership, email: user.email }));
}

/** Whether someone with this (lower-cased) email belongs to the account. */
export async function isMemberByEmail(db: Db, accountId: number, email: string) {
  const found = await db.membership.findFirst({ where: { accountId, user: { email } }, select: { userId: true } });
  return found !== null;
}

/** The user's role in the account, or null when they do not belong to it. */
export async function findMembershipRole(
  accountId: number,
  userId: number,
  db: Db = prisma,
): Promise<MembershipRole | null> {
  const found = await db.membership.findUnique({
    where: { accountId_userId: { accountId, userId } },
    select: { role: true },
  });
  return found?.role ?? null;
}

/** How many owners the account has (read in the transaction holding the account's lock). */
export function countOwners(db: Db, accountId: number) {
  return db.membership.count({ where: { accountId, role: "owner" } });
}

export async function addMembership(tx: Db, accountId: number, userId: number, role: MembershipRole = "member") {
  await tx.membership.create({ data: { accountId, userId, role }, select: { userId: true } });
}

export async function removeMembership(tx: Db, accountId: number, userId: number) {
  await tx.membership.delete({ where: { accountId_userId: { accountId, userId } }, select: { userId: true } });
}

export async function setMembershipRole(tx: Db, accountId: number, userId: number, role: MembershipRole) {
  await tx.membership.update({
    where: { accountId_userId: { accountId, userId } },
    data: { role },
    select: { userId: true },
  });
}

/** The account the product knows by this id of its own (`ext:` refs of /api/v1), by the unique index. */
export async function findAccountIdByExternalId(externalId: string): Promise<number | null> {
  const found = await prisma.account.findUnique({ where: { externalId }, select: { id: true } });
  return found?.id ?? null;
}

/** The account with this external id, locked for an upsert; null when there is none. */
export async function lockAccountByExternalId(tx: Db, externalId: string) {
  const rows = await tx.$queryRaw<Array<{ id: number; name: string }>>`
    SELECT id, name FROM accounts WHERE external_id = ${externalId} FOR UPDATE`;
  return rows[0] ?? null;
}

/**
 * A new account the product knows by `externalId`; null when another request made it first (the
 * unique index decides: the caller locks that one instead).
 */
export async function insertExternalAccount(tx: Db, account: { externalId: string; name: string; slug: string }) {
  const rows = await tx.$queryRaw<Array<{ id: number }>>`
    INSERT INTO accounts (name, slug, external_id) VALUES (${account.name}, ${account.slug}, ${account.externalId})
    ON CONFLICT (external_id) DO NOTHING RETURNING id`;
  if (rows[0]) await notifyApiCacheChanged(tx, [`account:${rows[0].id}`]);
  return rows[0]?.id ?? null;
}

export async function renameAccount(tx: Db, accountId: number, name: string) {
  await tx.account.update({ where: { id: accountId }, data: { name }, select: { id: true } });
  await notifyApiCacheChanged(tx, [`account:${accountId}`]);
}

/** The account's name and its first owner (who invitations sent for the account come from). */
export async function findAccountWithFirstOwner(accountId: number) {
  const account = await prisma.account.findUnique({
    where: { id: accountId },
    select: {
      id: true,
      name: true,
      memberships: {
        where: { role: "owner" },
        orderBy: [{ createdAt: "asc" }, { userId: "asc" }],
        take: 1,
        select: { user: { select: { id: true, email: true } } },
      },
    },
  });
  if (!account) return null;
  const owner = account.memberships[0]?.user ?? null;
  return { id: account.id, name: account.name, owner: owner && { userId: owner.id, email: owner.email } };
}

/** The member with this (lower-cased) email and their role; null when they do not belong to the account. */
export async function findMemberByEmail(db: Db, accountId: number, email: string) {
  return db.membership.findFirst({ where: { accountId, user: { email } }, select: { userId: true, role: true } });
}

export async function emailOfUser(db: Db, userId: number) {
  const user = await db.user.findUniqueOrThrow({ where: { id: userId }, select: { email: true } });
  return user.email;
}
