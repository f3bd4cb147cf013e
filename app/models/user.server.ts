import { hash, verify } from "@node-rs/argon2";
import { Prisma, type Role } from "~/generated/prisma/client.ts";
import { prisma } from "~/utils/db.server.ts";

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
