// Idempotent demo data: running it again changes nothing (upserts by natural key).
// `npm start` runs it on the embedded database; `prisma db seed` / `npm run db:seed` run it anywhere.
import { createHash } from "node:crypto";
import { pathToFileURL } from "node:url";
import type { PrismaClient } from "../app/generated/prisma/client.ts";
import { personalAccountName, personalSlug } from "../app/utils/account-names.ts";

export const DEMO_PASSWORDS = {
  "admin@example.com": "admin-demo-password",
  "support@example.com": "support-demo-password",
  "customer@example.com": "customer-demo-password",
  "teammate@example.com": "teammate-demo-password",
  "designer@example.com": "designer-demo-password",
} as const;

const PERMISSIONS = [
  { name: "projects.create", description: "Create projects" },
  { name: "export.csv", description: "Export data as CSV" },
  { name: "api.access", description: "Use the API" },
  { name: "team.invite", description: "Invite team members" },
  { name: "support.priority", description: "Priority support" },
];

const TIERS = [
  {
    key: "free",
    name: "Free",
    description: "Get started at no cost.",
    userLimit: 1,
    isCustomerFacing: true,
    billingProvider: "exempt",
    isBillingExempt: true,
    fallbackPrice: "$0",
    whopProductKey: null,
    lookupKeys: [],
    permissions: ["projects.create"],
  },
  {
    key: "hobbyist",
    name: "Hobbyist",
    description: "For side projects.",
    userLimit: 1,
    isCustomerFacing: true,
    billingProvider: "stripe",
    isBillingExempt: false,
    fallbackPrice: "£7",
    whopProductKey: null,
    lookupKeys: ["hobbyist_monthly", "hobbyist_yearly"],
    permissions: ["projects.create", "export.csv"],
  },
  {
    key: "pro",
    name: "Pro",
    description: "For teams that ship.",
    userLimit: 5,
    isCustomerFacing: true,
    billingProvider: "stripe",
    isBillingExempt: false,
    fallbackPrice: "£29",
    whopProductKey: null,
    lookupKeys: ["pro_monthly", "pro_yearly"],
    permissions: ["projects.create", "export.csv", "api.access", "team.invite", "support.priority"],
  },
  {
    key: "partner",
    name: "Partner",
    description: "Agencies and partners, arranged directly.",
    userLimit: 25,
    isCustomerFacing: false,
    billingProvider: "exempt",
    isBillingExempt: true,
    fallbackPrice: "$0",
    whopProductKey: null,
    lookupKeys: [],
    permissions: ["projects.create", "export.csv", "api.access", "team.invite", "support.priority"],
  },
  {
    key: "whop_basic",
    name: "Whop Basic",
    description: "Sold through Whop.",
    userLimit: 1,
    isCustomerFacing: true,
    billingProvider: "whop",
    isBillingExempt: false,
    fallbackPrice: "$5",
    whopProductKey: "prod_whop_basic",
    lookupKeys: [],
    permissions: ["projects.create", "export.csv"],
  },
] as const;

const USERS = [
  { email: "admin@example.com", role: "admin" },
  { email: "support@example.com", role: "support" },
  { email: "customer@example.com", role: "customer" },
  { email: "teammate@example.com", role: "customer" },
  { email: "designer@example.com", role: "customer" },
] as const;

// A team account (issue 19): customer@example.com owns it, two teammates are members, on the exempt
// Partner tier (25 seats). Everyone also owns a personal account, as sign-up gives them.
const TEAM = {
  name: "Acme Studio",
  slug: "acme-studio",
  owner: "customer@example.com",
  members: ["teammate@example.com", "designer@example.com"],
  tier: "partner",
} as const;

export async function seed(
  prisma: PrismaClient,
  { hashPassword, demoUsers = true }: { hashPassword: (p: string) => Promise<string>; demoUsers?: boolean },
) {
  for (const permission of PERMISSIONS) {
    await prisma.permission.upsert({ where: { name: permission.name }, update: {}, create: permission });
  }
  const permissionIds = new Map(
    (await prisma.permission.findMany()).map((permission) => [permission.name, permission.id]),
  );
  for (const { lookupKeys, permissions, ...tier } of TIERS) {
    // Only created, never overwritten: an admin's later edits to the demo tiers survive a re-seed.
    const existing = await prisma.subscriptionTier.findUnique({ where: { key: tier.key } });
    if (existing) continue;
    await prisma.subscriptionTier.create({
      data: {
        ...tier,
        prices: { create: lookupKeys.map((lookupKey, position) => ({ lookupKey, position })) },
        permissions: { create: permissions.map((name) => ({ permissionId: permissionIds.get(name)! })) },
      },
    });
  }
  // Demo users have published passwords: never created in production (see `npm run user:create`).
  if (!demoUsers) return;
  for (const user of USERS) {
    const existing = await prisma.user.findUnique({ where: { email: user.email } });
    if (existing) continue;
    const created = await prisma.user.create({
      data: { ...user, passwordHash: await hashPassword(DEMO_PASSWORDS[user.email]) },
    });
    await prisma.account.create({
      data: {
        name: personalAccountName(created.email),
        slug: personalSlug(created.email, created.id),
        memberships: { create: { userId: created.id, role: "owner" } },
      },
    });
  }
  if (await prisma.account.findUnique({ where: { slug: TEAM.slug } })) return;
  const ids = new Map(
    (await prisma.user.findMany({ where: { email: { in: [TEAM.owner, ...TEAM.members] } } })).map((u) => [
      u.email,
      u.id,
    ]),
  );
  const partner = await prisma.subscriptionTier.findUnique({ where: { key: TEAM.tier } });
  await prisma.account.create({
    data: {
      name: TEAM.name,
      slug: TEAM.slug,
      tierId: partner?.id ?? null,
      memberships: {
        create: [
          { userId: ids.get(TEAM.owner)!, role: "owner" },
          ...TEAM.members.map((email) => ({ userId: ids.get(email)!, role: "member" as const })),
        ],
      },
    },
  });
  await seedPendingInvitation(prisma);
}

// Acme Studio's pending invitation (issue 19, seats). Its link is published, like the demo passwords,
// so the demo (and the smoke test) can open it: /invitations/<DEMO_INVITATION_TOKEN>. Demo data only.
export const DEMO_INVITATION_TOKEN = "demo-invitation-for-newhire-at-acme-studio0";
const DEMO_INVITATION_DAYS = 7;

async function seedPendingInvitation(prisma: PrismaClient) {
  const tokenHash = createHash("sha256").update(DEMO_INVITATION_TOKEN).digest("hex");
  if (await prisma.invitation.findUnique({ where: { tokenHash } })) return;
  const team = await prisma.account.findUniqueOrThrow({ where: { slug: TEAM.slug } });
  const owner = await prisma.user.findUniqueOrThrow({ where: { email: TEAM.owner } });
  await prisma.invitation.create({
    data: {
      accountId: team.id,
      email: "newhire@example.com",
      tokenHash,
      invitedById: owner.id,
      expiresAt: new Date(Date.now() + DEMO_INVITATION_DAYS * 24 * 3_600_000),
    },
  });
}

// `tsx prisma/seed.ts`: seeds the configured database (DATABASE_URL, else the embedded one).
if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const { prepareDatabase, closeDatabase } = await import("../app/db/db.server.ts");
  const { hashPassword } = await import("../app/models/user.server.ts");
  const { config } = await import("../app/utils/config.server.ts");
  const { production } = config();
  const db = await prepareDatabase();
  try {
    await seed(db.prisma, { hashPassword, demoUsers: !production });
    console.log(production ? "Seeded tiers and permissions (no demo users in production)." : "Seeded demo data.");
  } finally {
    await closeDatabase();
  }
}
