// Permissions: named abilities (`export.csv`) that tiers grant.
import { prisma } from "~/db/db.server.ts";
import type { Db } from "./transaction.server.ts";

export function listPermissions() {
  return prisma.permission.findMany({ orderBy: { name: "asc" }, select: { id: true, name: true, description: true } });
}

/** Every permission with the tiers that grant it. */
export function listPermissionsWithTiers() {
  return prisma.permission.findMany({
    orderBy: { name: "asc" },
    include: {
      tiers: { select: { tier: { select: { id: true, key: true, name: true } } }, orderBy: { tierId: "asc" } },
    },
  });
}

export function findPermissionsByName(db: Db, names: readonly string[]) {
  return db.permission.findMany({ where: { name: { in: [...names] } }, select: { id: true, name: true } });
}

export async function lockPermission(tx: Db, id: number) {
  const rows = await tx.$queryRaw<Array<{ id: number }>>`SELECT id FROM permission WHERE id = ${id} FOR UPDATE`;
  if (!rows.length) return null;
  return tx.permission.findUnique({
    where: { id },
    include: { tiers: { select: { tier: { select: { id: true, key: true, name: true } } } } },
  });
}

export async function isPermissionNameTaken(db: Db, name: string, exceptId: number | null) {
  const found = await db.permission.findUnique({ where: { name }, select: { id: true } });
  return found !== null && found.id !== exceptId;
}

export function createPermission(tx: Db, data: { name: string; description: string }) {
  return tx.permission.create({ data, select: { id: true, name: true, description: true } });
}

export function updatePermission(tx: Db, id: number, data: { name: string; description: string }) {
  return tx.permission.update({ where: { id }, data, select: { id: true, name: true, description: true } });
}

export async function deletePermission(tx: Db, id: number) {
  await tx.permission.delete({ where: { id } });
}
